"""Widget: bytes loaded before the visitor opens the chat, and time to a visible launcher.

A real server on 127.0.0.1, a host page on a second port embedding /widget.js, headless
Chromium (Debian's /usr/bin/chromium), a fresh browser context per load (a first visit, no
cache). Goal from issue 5: <= 6 KB gzipped and <= 50 ms from the script's arrival to the
launcher on screen. The launcher does not wait for the config request (it is drawn in the look
remembered from the last visit, or the defaults); that request's time is reported beside it.

    ./scripts/bench widget            (or: .venv/bin/python bench/widget.py --loads 20)
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from _common import percentile, write_results

from modelpilot.widget.build import write_build
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, HostSite, embed_page
from tests.support import Api

# Runs in the host page before the embed tag: notes when <modelpilot-widget> arrives and when
# the frame after that is painted.
PROBE = """<script>
window.__mp = {};
new MutationObserver(function (records, observer) {
  if (!document.querySelector('modelpilot-widget')) return;
  window.__mp.inserted = performance.now();
  requestAnimationFrame(function () { window.__mp.painted = performance.now(); });
  observer.disconnect();
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""

TIMINGS = """() => {
  const entry = (part) => performance.getEntriesByType('resource').find(e => e.name.includes(part));
  const script = entry('/widget.js'), config = entry('/config');
  return {script_arrived: script.responseEnd, config_start: config.startTime, config_end: config.responseEnd,
          inserted: window.__mp.inserted, painted: window.__mp.painted};
}"""


@contextmanager
def server_process() -> Iterator[str]:
    """`modelpilot serve` in its own process, as in production (no GIL shared with the browser driver)."""
    data_dir = tempfile.mkdtemp(prefix="mp-bench-widget-")
    command = [sys.executable, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
               "--log-level", "warning"]
    env = {**os.environ, "MODELPILOT_LLM_PRELOAD": "false"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()  # "ModelPilot x.y.z on http://127.0.0.1:PORT  (data in ...)"
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=15)


def measure_loads(browser, url: str, server_url: str, loads: int) -> list[dict]:
    samples = []
    for _ in range(loads):
        context = browser.new_context()
        page = context.new_page()
        sizes: list[int] = []
        page.on("response", lambda r: sizes.append(int(r.headers.get("content-length") or len(r.body())))
                if r.url.startswith(server_url) else None)
        page.goto(url)
        page.wait_for_function("() => window.__mp && window.__mp.painted")
        page.wait_for_load_state("networkidle")
        samples.append({**page.evaluate(TIMINGS), "bytes": sum(sizes), "requests": len(sizes)})
        context.close()
    return samples


def summarise(samples: list[dict], loader_gzip: int) -> dict:
    after_script = [s["painted"] - s["script_arrived"] for s in samples]
    to_insert = [s["inserted"] - s["script_arrived"] for s in samples]
    config_trip = [s["config_end"] - s["config_start"] for s in samples]
    from_start = [s["painted"] for s in samples]
    return {
        "loads": len(samples),
        "loader_gzip_bytes": loader_gzip,
        "before_open_bytes_on_wire": max(s["bytes"] for s in samples),
        "before_open_requests": max(s["requests"] for s in samples),
        "budget_bytes": 6 * 1024,
        "launcher_painted_after_script_ms": {"p50": round(percentile(after_script, 50), 1),
                                             "p95": round(percentile(after_script, 95), 1)},
        "launcher_in_dom_after_script_ms": {"p50": round(percentile(to_insert, 50), 1),
                                            "p95": round(percentile(to_insert, 95), 1)},
        # In parallel with the launcher (which does not wait for it): restyles it when it returns.
        "config_request_ms": {"p50": round(percentile(config_trip, 50), 1),
                              "p95": round(percentile(config_trip, 95), 1)},
        "launcher_painted_after_navigation_start_ms": {"p50": round(percentile(from_start, 50), 1)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=15)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"bench/widget: {CHROMIUM} is missing; install Debian's chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    built = write_build()
    host = HostSite()
    try:
        with server_process() as server_url, Api(server_url) as owner:
            owner.setup_owner()
            bot = owner.create_bot(owner.ws, name="Bench", published=True)
            url = host.page("/", embed_page(server_url, bot["id"], head=PROBE))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                measure_loads(browser, url, server_url, 2)  # warm up the server and the browser
                samples = measure_loads(browser, url, server_url, args.loads)
                browser.close()
    finally:
        host.stop()
    write_results("widget", summarise(samples, len(gzip.compress(built.loader.encode(), 9))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
