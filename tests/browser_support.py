"""Browser test support: Debian's Chromium under Playwright, and a host page on another origin.

The host page server stands for a customer's website: a second 127.0.0.1 port, so the widget
is embedded cross-origin exactly as in production.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class HostSite:
    """Serves registered HTML pages at their paths; everything else is 404."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="host-site")
        self.thread.start()

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def embed_page(app_url: str, bot_id: str, head: str = "", body: str = "", attrs: str = "") -> str:
    """A plain host page with the one-line embed snippet."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>Shop</title>{head}</head><body><h1>Welcome to the shop</h1>"
        f"<p id=probe>Host paragraph</p><button id=host-button>Host button</button>{body}"
        f"<script src='{app_url}/widget.js' data-bot-id='{bot_id}' {attrs} async></script>"
        "</body></html>"
    )


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """The one Playwright browser of a test module. Playwright's sync API allows one running
    instance per thread, so every browser test shares this fixture; and while it runs, the main
    thread has a running event loop, so it must stop with the module: a session-wide browser broke
    every later test that calls asyncio.run."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    yield site
    site.stop()


LAUNCHER = "modelpilot-widget .mp-launcher"
WINDOW = "modelpilot-widget .mp-window"
SOURCE_URL = "https://shop.example.com/hours"


def retrieval_finds(monkeypatch, **chunk: object) -> None:
    """Make the chat's retrieval seam return one chunk. The knowledge index is another issue's
    work and the seam returns nothing until it lands, so this stands in for an indexed page."""
    from modelpilot.rag import retrieve as rag

    found = rag.RetrievedChunk(**{"chunk_id": "c1", "document_id": "d1", "title": "Opening hours", "score": 0.9,
                                  "text": "We open at 9 and close at 17 on weekdays.", "url": SOURCE_URL, **chunk})

    async def retrieve(db, workspace_id, bot, query, *, top_k=None, scope=None):
        return [found]

    monkeypatch.setattr(rag, "retrieve", retrieve)


@pytest.fixture
def knowledge(monkeypatch) -> None:
    retrieval_finds(monkeypatch)


@pytest.fixture
def tab(chromium):
    """A fresh browser context (own storage) with one desktop-sized page."""
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    yield context.new_page()
    context.close()


def open_widget(page) -> None:
    page.locator(LAUNCHER).click()
    page.locator(WINDOW).wait_for(state="visible")
    # Let the slide-in finish, so that sizes and screenshots show the window at rest.
    page.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot"
                           ".querySelector('.mp-window').getAnimations().length === 0")


def shadow_eval(page, script: str):
    return page.evaluate("(() => { const root = document.querySelector('modelpilot-widget').shadowRoot;"
                         f" return {script}; }})()")


class CuttableProxy:
    """A TCP proxy to the server on its own 127.0.0.1 port, whose connections can be cut: `cut()`
    closes every open connection (a streaming response included) and refuses new ones until
    `restore()`. A real dropped network, where the browser's offline emulation leaves open
    streams to 127.0.0.1 running."""

    def __init__(self, target_port: int) -> None:
        import socket

        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.down = False
        self.lock = threading.Lock()
        self.open: set = set()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True, name="cuttable-proxy").start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, upstream))
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock) -> None:
        import socket

        with self.lock:
            self.open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        self.down = True
        with self.lock:
            sockets = list(self.open)
        for sock in sockets:
            self._close(sock)

    def restore(self) -> None:
        self.down = False

    def stop(self) -> None:
        self.cut()
        self.listener.close()
