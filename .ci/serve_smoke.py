"""Run ./scripts/serve as a newcomer would and prove the server answers: /healthz, then one chat.

Usage: python3 .ci/serve_smoke.py [--no-chat]
The environment passes through, so `PYTHON=... MP_VENV=... python3 .ci/serve_smoke.py` tries
another interpreter in its own venv. The driver uses the standard library only: it runs before
the first `./scripts/serve` has created any venv. The chat goes to the fake OpenAI-compatible
server in tests/fakes (started with the venv's Python once serve has installed it).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL_BUDGET_S = 20 * 60  # a first run installs the whole lock from the registry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, budget: float) -> dict:
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"smoke: ./scripts/serve exited with {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"smoke: no healthy /healthz within {budget:.0f} s")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def ok(self, method: str, path: str, body: dict | None = None) -> dict:
        status, payload = self.call(method, path, body)
        if status >= 300:
            raise SystemExit(f"smoke: {method} {path} -> {status}: {payload[:300]!r}")
        return json.loads(payload) if payload else {}


def start_fake_llm(venv: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([str(venv / "bin" / "python"), "-m", "tests.fakes.llm"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        raise SystemExit(f"smoke: the fake LLM did not start ({url!r})")
    return proc, url


def one_chat(base: str, llm_url: str) -> str:
    client = Client(base)
    setup = client.ok("POST", "/api/v1/auth/setup", {"email": "smoke@example.com", "password": "smoke-test-passphrase-2026",
                                                     "name": "Smoke", "workspace_name": "Smoke"})
    ws = setup["workspaces"][0]["id"]
    client.ok("PUT", f"/api/v1/workspaces/{ws}/providers/openai", {"api_key": "sk-smoke-0123456789abcdef", "api_base": llm_url})
    bot = client.ok("POST", f"/api/v1/workspaces/{ws}/chatbots", {"name": "Smoke bot", "model": "gpt-4o-mini"})
    status, body = client.call("POST", f"/api/v1/workspaces/{ws}/chatbots/{bot['id']}/chat", {"message": "Hello?"})
    events = [json.loads(line[5:]) for line in body.decode().splitlines() if line.startswith("data:")]
    text = "".join(event.get("text", "") for event in events)
    if status != 200 or not events or not events[-1].get("done") or "fake model" not in text:
        raise SystemExit(f"smoke: chat failed ({status}): {body[:400]!r}")
    return text


def main() -> int:
    port, chat = free_port(), "--no-chat" not in sys.argv
    venv = Path(os.environ.get("MP_VENV", ROOT / ".venv"))
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="mp-smoke-") as data:
        env = {**os.environ, "MODELPILOT_PORT": str(port), "MODELPILOT_DATA_DIR": data}
        started = time.monotonic()
        serve = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, start_new_session=True)
        llm = None
        try:
            health = wait_healthy(base, serve, INSTALL_BUDGET_S)
            print(f"smoke: healthy after {time.monotonic() - started:.1f} s: {health}", flush=True)
            if chat:
                llm, llm_url = start_fake_llm(venv)
                print(f"smoke: chat answered: {one_chat(base, llm_url)[:60]!r}", flush=True)
        finally:
            if llm:
                llm.terminate()
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
