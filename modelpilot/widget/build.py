"""Build the widget the server sends: `python -m modelpilot.widget.build`.

widget/ holds readable source. This joins and minifies it into three files in
modelpilot/static/widget/ (gitignored, bundled by the binary build):
  widget.min.js       the loader: launcher, options, config fetch (the only code before opening)
  widget-chat.min.js  the chat window, fetched with `?v=<hash>` by the loader on first open
  sse.module.min.js   the widget's SSE parser as an ES module, which the dashboard imports as
                      /js/sse.js: one parser, one behaviour on CR line endings, for both
Runs on every ./scripts/serve, ./scripts/test and binary build; it takes milliseconds and
rewrites a file only when its content changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from modelpilot.paths import widget_build_dir, widget_source_dir

LOADER_FILE = "widget.min.js"
CHAT_FILE = "widget-chat.min.js"
SSE_MODULE_FILE = "sse.module.min.js"
# The chat module is these sources in this order, sharing one module scope.
CHAT_SOURCES = ("markdown.js", "sse.js", "lead.js", "tools.js", "chat.js")


@dataclass(frozen=True)
class BuiltWidget:
    loader: str
    chat: str
    sse_module: str

    @property
    def chat_version(self) -> str:
        return content_version(self.chat.encode())


def content_version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def minify_css(css: str) -> str:
    import rcssmin  # as rjsmin below: only needed when the build file is missing

    # rcssmin knows CSS's grammar: strings such as content:"a, b" and url(...) keep their spaces.
    return rcssmin.cssmin(css).strip()


def _js_string(value: str) -> str:
    return json.dumps(value)


def _fill(source: str, placeholder: str, value: str) -> str:
    token = f"'{placeholder}'"
    if token not in source:
        raise ValueError(f"widget source lost its {placeholder} placeholder")
    return source.replace(token, _js_string(value))


def _minify_js(source: str) -> str:
    import rjsmin  # imported here: the server only needs it when the build file is missing

    return rjsmin.jsmin(source)


def build_widget(source_dir: Path | None = None) -> BuiltWidget:
    """The two minified scripts, in memory."""
    src = source_dir or widget_source_dir()
    chat_source = "\n".join((src / name).read_text(encoding="utf-8") for name in CHAT_SOURCES)
    chat_source = _fill(chat_source, "__CHAT_CSS__", minify_css((src / "chat.css").read_text(encoding="utf-8")))
    chat = _minify_js(chat_source)
    loader_source = (src / "loader.js").read_text(encoding="utf-8")
    loader_source = _fill(loader_source, "__LAUNCHER_CSS__", minify_css((src / "launcher.css").read_text(encoding="utf-8")))
    loader_source = _fill(loader_source, "__CHAT_VERSION__", content_version(chat.encode()))
    sse_module = _minify_js((src / "sse.js").read_text(encoding="utf-8") + "\nexport { createSseParser, readSse };\n")
    return BuiltWidget(loader=_minify_js(loader_source), chat=chat, sse_module=sse_module)


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a running server never reads half a file
    return True


def write_build(out_dir: Path | None = None, source_dir: Path | None = None) -> BuiltWidget:
    out = out_dir or widget_build_dir()
    built = build_widget(source_dir)
    _write_if_changed(out / CHAT_FILE, built.chat)
    _write_if_changed(out / LOADER_FILE, built.loader)
    _write_if_changed(out / SSE_MODULE_FILE, built.sse_module)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Minify widget/ into modelpilot/static/widget/.")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    if not widget_source_dir().is_dir():
        print(f"widget build: no source at {widget_source_dir()}", file=sys.stderr)
        return 1
    built = write_build(args.out)
    if not args.quiet:
        print(f"widget build: loader {len(built.loader)} B, chat {len(built.chat)} B -> {args.out or widget_build_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
