"""A real webhook receiver on 127.0.0.1: a threaded HTTP server that verifies every delivery
with the official `standardwebhooks` package and answers with scripted status codes."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


SLOW = -1            # an answer script entry: wait SLOW_SECONDS, then 200
SLOW_SECONDS = 3.0


class Receiver:
    def __init__(self, answers: list[int] | None = None) -> None:
        self.secret: str | None = None
        self.answers = list(answers or [])  # status codes to answer, in order; then 200
        self.verified: list[dict] = []      # {"id", "headers", "payload"} of each verified delivery
        self.rejected: list[str] = []       # why a request failed verification
        self.hits = 0
        self.reply_body: bytes | None = None  # what to answer instead of the default JSON
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def localhost_url(self) -> str:
        return f"http://localhost:{self._server.server_address[1]}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver._take(dict(self.headers.items()), body)
                if status == SLOW:  # answer too late: the sender has given up on this attempt
                    time.sleep(SLOW_SECONDS)
                    status = 200
                payload = receiver.reply_body or f'{{"received": true, "status": {status}}}'.encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def _take(self, headers: dict, body: bytes) -> int:
        with self._lock:
            self.hits += 1
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except Exception as exc:  # the package raises its own verification error
                self.rejected.append(f"{type(exc).__name__}: {exc}")
                return 400
            status = self.answers.pop(0) if self.answers else 200
            if status == SLOW:
                return status
            if 200 <= status < 300:
                self.verified.append({"id": headers.get("webhook-id") or headers.get("Webhook-Id"),
                                      "headers": headers, "payload": payload, "body": json.loads(body)})
            return status

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.verified) >= count:
                    return list(self.verified)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} verified deliveries, got {len(self.verified)} "
                             f"(hits {self.hits}, rejected {self.rejected})")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
