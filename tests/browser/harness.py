"""Headless Chromium for dashboard tests: Debian's browser, strict error watching, screenshots.

Every page the journey visits is photographed four ways (light and dark, desktop and 360 px
wide). Any console error, uncaught exception, failed request or unexpected HTTP error status
is recorded and fails the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

DESKTOP = {"width": 1280, "height": 860}
# Generous waits: the CI box is shared and a busy one is slow, not broken.
expect.set_options(timeout=15_000)
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def browser(chromium) -> Browser:
    """The dashboard tests' name for the one browser (tests/browser_support.chromium)."""
    return chromium


@dataclass
class Watcher:
    """Collects everything that went wrong in a page; `allowed` lists expected HTTP errors."""

    problems: list[str] = field(default_factory=list)
    allowed: list[tuple[int, re.Pattern]] = field(default_factory=list)

    def allow(self, status: int, url_pattern: str) -> None:
        self.allowed.append((status, re.compile(url_pattern)))

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # Chromium logs every HTTP error status as a console error; those are judged in _response.
        if message.text.startswith("Failed to load resource: the server responded with a status of"):
            return
        self.problems.append(f"console error: {message.text}")

    def _request_failed(self, request) -> None:
        failure = request.failure or ""
        # A stream the page deliberately closed (navigation away, aborted fetch) is not a failure;
        # nor is the icon the browser fetches by itself and drops when the page navigates on.
        if "ERR_ABORTED" in failure and (request.resource_type in {"fetch", "xhr", "eventsource"}
                                         or request.url.endswith(("/favicon.ico", "/img/favicon.svg"))):
            return
        self.problems.append(f"request failed: {request.method} {request.url} {failure}")

    def _response(self, response) -> None:
        if response.status < 400:
            return
        if any(status == response.status and pattern.search(response.url) for status, pattern in self.allowed):
            return
        self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def check(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "browser problems:\n" + "\n".join(problems)


@dataclass
class Browsing:
    context: BrowserContext
    page: Page
    watcher: Watcher
    shots: Path

    def shoot(self, name: str) -> None:
        """Saves name-{light,dark}-{desktop,phone}.png of the current page, then restores it."""
        self.page.wait_for_load_state("load")
        expect(self.page.locator(".loading")).to_have_count(0)
        self.page.evaluate("window.scrollTo(0, 0)")  # full-page shots of a scrolled page misplace the sticky bar
        for scheme in ("light", "dark"):
            self.page.emulate_media(color_scheme=scheme)
            for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                self.page.set_viewport_size(size)
                self.page.screenshot(path=str(self.shots / f"{name}-{scheme}-{size_name}.png"), full_page=True)
        self.page.emulate_media(color_scheme="light")
        self.page.set_viewport_size(DESKTOP)
        self.watcher.check()

    def close(self) -> None:
        self.context.close()


def open_browsing(browser: Browser, base_url: str, shots: Path) -> Browsing:
    context = browser.new_context(base_url=base_url, viewport=DESKTOP, color_scheme="light")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watcher = Watcher()
    watcher.attach(page)
    shots.mkdir(parents=True, exist_ok=True)
    return Browsing(context, page, watcher, shots)


def log_in_as_owner(page: Page) -> None:
    """The dashboard's login form, as the owner the `server` fixture set up; ends on Overview."""
    from tests.support import PASSWORD

    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill("owner@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
