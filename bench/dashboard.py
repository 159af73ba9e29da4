"""Dashboard load: body bytes transferred and time to a usable page in headless Chromium.

Measures, against a real server on 127.0.0.1: the bytes of every response the dashboard needs
to show the overview (cold cache), the same with a warm cache (ETag revalidations answer 304),
and the time from navigation to the overview heading being visible, cold and warm.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import summary_ms, write_results
from playwright.sync_api import expect, sync_playwright

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS
from tests.support import Api, make_settings, start_server

ROUNDS = 5


def load_once(context, url: str) -> tuple[float, int]:
    page = context.new_page()
    sizes: list[int] = []

    def record(request) -> None:
        sizes.append(request.sizes()["responseBodySize"])

    page.on("requestfinished", record)
    started = time.perf_counter()
    page.goto(url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview", timeout=30_000)
    elapsed = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    page.close()
    return elapsed, sum(sizes)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        live = start_server(make_settings(Path(tmp)))
        owner = Api(live.url)
        owner.setup_owner()
        cookies = [{"name": c.name, "value": c.value, "url": live.url} for c in owner.cookies.jar]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            cold, warm, cold_bytes, warm_bytes = [], [], 0, 0
            for _ in range(ROUNDS):
                context = browser.new_context()
                context.add_cookies(cookies)
                context.add_init_script("localStorage.setItem('modelpilot.session', '1')")
                seconds, cold_bytes = load_once(context, live.url)
                cold.append(seconds)
                seconds, warm_bytes = load_once(context, live.url)
                warm.append(seconds)
                context.close()
            browser.close()
        owner.close()
        live.stop()
    write_results("dashboard", {
        "overview_cold": summary_ms(cold), "overview_warm": summary_ms(warm),
        # Warm: every file revalidates by ETag and comes back as a body-less 304.
        "body_bytes_cold": cold_bytes, "body_bytes_warm": warm_bytes,
    })


if __name__ == "__main__":
    main()
