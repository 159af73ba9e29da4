"""A small Stripe API stand-in on 127.0.0.1: customers, Checkout sessions, billing portal sessions.

The real `stripe` library talks to it over HTTP (point `stripe_api_base` at `url`). It speaks
Stripe's wire format: form-encoded requests (`line_items[0][price]=...`), JSON objects with an
`object` field, Stripe's error body, and idempotency keys (the same key on the same path returns
the first response with `Idempotent-Replayed: true`). `requests` keeps every call it received:
method, path, flat form params and headers, for tests to assert on.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

CHECKOUT_HOST = "https://checkout.stripe.test"
PORTAL_HOST = "https://billing.stripe.test"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class StripeError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind


@dataclass
class FakeStripe:
    api_key: str = "sk_test_fake"
    known_prices: set[str] = field(default_factory=lambda: {"price_starter", "price_pro"})
    requests: list[Recorded] = field(default_factory=list)
    customers: dict[str, dict] = field(default_factory=dict)
    _replies: dict[tuple[str, str], tuple[int, dict]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> "FakeStripe":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                fake._serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        params = dict(parse_qsl(handler.rfile.read(length).decode(), keep_blank_values=True))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded("POST", handler.path, params, headers))
            status, body, replayed = self._reply(handler.path, params, headers)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", f"req_fake{len(self.requests)}")
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        handler.end_headers()
        handler.wfile.write(payload)

    def _reply(self, path: str, params: dict, headers: dict) -> tuple[int, dict, bool]:
        key = headers.get("idempotency-key")
        if key and (path, key) in self._replies:
            return *self._replies[(path, key)], True
        try:
            if headers.get("authorization") != f"Bearer {self.api_key}":
                raise StripeError(401, "Invalid API Key provided.", kind="authentication_error")
            status, body = 200, self._create(path, params)
        except StripeError as exc:
            status, body = exc.status, {"error": {"type": exc.kind, "message": exc.message, "param": exc.param}}
        if key:
            self._replies[(path, key)] = (status, body)
        return status, body, False

    def _create(self, path: str, params: dict) -> dict:
        routes = {"/v1/customers": self._customer, "/v1/checkout/sessions": self._checkout,
                  "/v1/billing_portal/sessions": self._portal}
        if path not in routes:
            raise StripeError(404, f"Unrecognized request URL (POST: {path}).")
        return routes[path](params)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}"

    def _customer(self, params: dict) -> dict:
        metadata = {k[len("metadata["):-1]: v for k, v in params.items() if k.startswith("metadata[")}
        customer = {"id": self._new_id("cus"), "object": "customer", "name": params.get("name"),
                    "email": params.get("email"), "metadata": metadata}
        self.customers[customer["id"]] = customer
        return customer

    def _require(self, params: dict, *names: str) -> None:
        for name in names:
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", param=name)

    def _known_customer(self, params: dict) -> None:
        if params["customer"] not in self.customers:
            raise StripeError(400, f"No such customer: '{params['customer']}'", param="customer")

    def _checkout(self, params: dict) -> dict:
        self._require(params, "mode", "customer", "success_url", "line_items[0][price]")
        self._known_customer(params)
        price = params["line_items[0][price]"]
        if price not in self.known_prices:
            raise StripeError(400, f"No such price: '{price}'", param="line_items[0][price]")
        session_id = self._new_id("cs_test")
        return {"id": session_id, "object": "checkout.session", "mode": params["mode"],
                "customer": params["customer"], "client_reference_id": params.get("client_reference_id"),
                "url": f"{CHECKOUT_HOST}/c/pay/{session_id}", "status": "open"}

    def _portal(self, params: dict) -> dict:
        self._require(params, "customer")
        self._known_customer(params)
        session_id = self._new_id("bps")
        return {"id": session_id, "object": "billing_portal.session", "customer": params["customer"],
                "return_url": params.get("return_url"), "url": f"{PORTAL_HOST}/p/session/{session_id}"}
