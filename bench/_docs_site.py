"""An evaluation corpus (bench/_corpora.py: Python's or PostgreSQL's HTML documentation, shipped
by Debian packages) served over 127.0.0.1 with a start page that links the pages the questions
are about."""

from __future__ import annotations

import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _corpora import PYTHON, Corpus

DOC_ROOT = PYTHON.root


def require_corpus(corpus: Corpus = PYTHON) -> Path:
    if not (corpus.root / corpus.probe).exists():
        print(f"The {corpus.name} evaluation corpus is missing. Install it with:\n"
              f"    sudo apt-get install -y {corpus.package}\n"
              "(or run .ci/bench, which does it), then run this benchmark again.", file=sys.stderr)
        raise SystemExit(2)
    return corpus.root


class DocsSite:
    """Serves the corpus's root plus /bench-start.html linking the given pages (in that order)."""

    def __init__(self, pages: list[str], corpus: Corpus = PYTHON) -> None:
        links = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in pages)
        start = f"<html><head><title>Start</title></head><body><ul>{links}</ul></body></html>".encode()

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/bench-start.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(start)))
                    self.end_headers()
                    self.wfile.write(start)
                    return
                super().do_GET()

            def log_message(self, *args) -> None:
                pass

        handler = functools.partial(Handler, directory=str(require_corpus(corpus)))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
