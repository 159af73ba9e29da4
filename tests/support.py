"""Test support: a real server on 127.0.0.1 in a thread, and an HTTP client that speaks to it."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

import httpx
import uvicorn

from modelpilot.app import create_app
from modelpilot.core.http_server import uvicorn_config
from modelpilot.settings import Settings, load_settings
from tests.pg_support import BACKEND, fresh_database

PASSWORD = "a long enough passphrase"
T = TypeVar("T")


def eventually(probe: Callable[[], T], until: Callable[[T], object] = bool, *, timeout: float = 30,
               interval: float = 0.05, what: str = "the condition") -> T:
    """Call probe until `until(value)` holds and return that value: the one way tests wait for
    work the server finishes in the background. After `timeout` seconds an AssertionError names
    `what` and the last value seen; an exception from probe (an assertion too) ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s; last seen: {value!r}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test instance in data_dir; under MP_TEST_BACKEND=postgres each call also
    gets a fresh Postgres database (pass database_url="" for SQLite anyway)."""
    base = load_settings(env={}, overrides={"data_dir": str(data_dir)})
    if BACKEND == "postgres" and "database_url" not in overrides:
        overrides["database_url"] = fresh_database()
    return replace(base, **{"host": "127.0.0.1", "port": 0, **overrides})


def database_args(settings: Settings) -> list[str]:
    """The CLI flag that points a `python -m modelpilot ...` subprocess at the test's database."""
    return ["--database-url", settings.database_url] if settings.database_url else []


@dataclass
class LiveServer:
    settings: Settings
    url: str
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def start_server(settings: Settings) -> LiveServer:
    """create_app on a bound socket, served by uvicorn in a thread; returns once it answers."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", settings.port))
    sock.listen(512)
    settings = replace(settings, port=sock.getsockname()[1])
    app = create_app(settings)
    # The configuration `modelpilot serve` uses (protocol limits included), quieter and quicker to stop.
    config = uvicorn_config(app, settings, log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return LiveServer(settings, f"http://127.0.0.1:{settings.port}", app, server, thread)


class Api(httpx.Client):
    """An httpx client with its own cookie jar, plus short-cuts for common set-up."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(base_url=base_url, timeout=30, **kwargs)
        self.user: dict | None = None
        self.workspaces: list[dict] = []

    @property
    def ws(self) -> str:
        return self.workspaces[0]["id"]

    def ok(self, method: str, path: str, status: int | tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        expected = (status,) if isinstance(status, int) else status
        assert response.status_code in expected, f"{method} {path} -> {response.status_code}: {response.text}"
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None

    def remember(self, body: dict) -> dict:
        self.user, self.workspaces = body["user"], body["workspaces"]
        return body

    def setup_owner(self, email: str = "owner@example.com", workspace_name: str = "Acme") -> dict:
        body = {"email": email, "password": PASSWORD, "name": "Owner", "workspace_name": workspace_name}
        return self.remember(self.ok("POST", "/api/v1/auth/setup", json=body))

    def signup(self, email: str, workspace_name: str = "Other") -> dict:
        body = {"email": email, "password": PASSWORD, "name": email.split("@")[0], "workspace_name": workspace_name}
        return self.remember(self.ok("POST", "/api/v1/auth/signup", json=body))

    def login(self, email: str, password: str = PASSWORD) -> dict:
        return self.remember(self.ok("POST", "/api/v1/auth/login", json={"email": email, "password": password}))

    def invite_and_join(self, other: "Api", email: str, role: str, ws: str | None = None) -> dict:
        """As self (an admin), invite `email` into ws with `role`; `other` accepts as a new user."""
        ws = ws or self.ws
        invitation = self.ok("POST", f"/api/v1/workspaces/{ws}/invitations", json={"email": email, "role": role})
        token = invitation["accept_url"].rsplit("/", 1)[1]
        body = {"email": email, "password": PASSWORD, "name": email.split("@")[0]}
        return other.remember(other.ok("POST", f"/api/v1/invitations/{token}/accept", json=body))

    def add_provider(self, ws: str, provider: str = "openai", api_key: str = "sk-test-0123456789abcdef",
                     api_base: str | None = None) -> dict:
        """Store a provider key (api_base: e.g. the fake LLM's url)."""
        body = {"api_key": api_key, "api_base": api_base}
        return self.ok("PUT", f"/api/v1/workspaces/{ws}/providers/{provider}", json=body)

    def create_bot(self, ws: str, **fields: Any) -> dict:
        """Create a chatbot; fields override the defaults (name "Test bot")."""
        return self.ok("POST", f"/api/v1/workspaces/{ws}/chatbots", json={"name": "Test bot", **fields})

    def chat(self, ws: str, bot_id: str, message: str, session_id: str | None = None) -> list[dict]:
        """Send one chat message; returns the parsed SSE events (the last is done or error)."""
        body: dict[str, Any] = {"message": message}
        if session_id:
            body["session_id"] = session_id
        response = self.post(f"/api/v1/workspaces/{ws}/chatbots/{bot_id}/chat", json=body)
        assert response.status_code == 200, f"chat -> {response.status_code}: {response.text}"
        return parse_sse(response.text)


def parse_sse(text: str) -> list[dict]:
    """The `data:` events of a server-sent-events body, decoded from JSON."""
    events = []
    for block in text.split("\n\n"):
        data = [line[5:].lstrip() for line in block.splitlines() if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events
