"""Webhook deliveries per second to a local receiver, and what a burst of queued deliveries does
to the chat path, in the same run.

Runs the fake OpenAI-compatible provider and `modelpilot serve --port 0` as subprocesses
(MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true, so the server may reach 127.0.0.1), and a threaded
receiver in a process of its own that verifies every delivery with the official `standardwebhooks`
package before it counts it.
  throughput   BURST webhook.test events queued through the API (20 at a time), drained by the
               server's delivery worker: deliveries/s from the first enqueue to the last delivery.
  chat_idle    CHATS chats one after another (each opens a conversation, so each also queues a
               conversation.started delivery): time to the first SSE byte, p50/p95.
  chat_burst   the same chats right after a burst of BURST deliveries was queued, while the worker
               sends them (`chats_ran_while_draining` says the burst outlasted the chats).
Idle and burst slices alternate (SLICES times, or `--slices N`) so both see the same machine. Goal: chat p95 under
a burst within 10% of idle (ratio <= 1.10). Each run measures SQLite, then Postgres (a fresh
database on the tests' embedded Postgres, or MP_BENCH_DATABASE_URL); `--sqlite-only` skips it.
A delivery that never arrives stops the run naming the deliveries not sent, with their attempts;
MP_BENCH_ERR=FILE (with MP_BENCH_LOG_LEVEL=info) keeps the server's log to see why.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from standardwebhooks import Webhook

from _common import percentile, summary_ms, write_results
from chat_overhead import postgres_url, start_process, ttfb

BURST = 600
CHATS = 30
HEAD = 3  # the first chats of a slice, reported apart in by_position_in_slice
SLICES = 3


class Receiver:
    """Counts verified deliveries (and the time of the last) on 127.0.0.1, in a process of its own:
    a receiver's threads in this process would share its GIL with the client that times the chats
    (a real receiver runs elsewhere, not beside the server it hears from)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._secret = ctx.Array("c", 256)
        self._verified, self._rejected = ctx.Value("q", 0), ctx.Value("q", 0)
        self._last = ctx.Value("d", 0.0)
        self._port = ctx.Value("i", 0)
        self._process = ctx.Process(target=_receive, daemon=True,
                                    args=(self._secret, self._verified, self._rejected, self._last, self._port))
        self._process.start()
        while not self._port.value:
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self._port.value}/hook"

    @property
    def secret(self) -> str:
        return self._secret.value.decode()

    @secret.setter
    def secret(self, value: str) -> None:
        self._secret.value = value.encode()

    @property
    def rejected(self) -> int:
        return self._rejected.value

    @property
    def last(self) -> float:
        """time.monotonic() of the latest verified delivery (the clock is the machine's, not the process's)."""
        return self._last.value

    def count(self) -> int:
        return self._verified.value

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(timeout=10)


def _receive(secret, verified, rejected, last, port) -> None:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                Webhook(secret.value.decode()).verify(body, dict(self.headers.items()))
                ok = True
            except Exception:
                ok = False
            with lock:
                if ok:
                    last.value = time.monotonic()
                    verified.value += 1
                else:
                    rejected.value += 1
            self.send_response(200 if ok else 400)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


def setup(base: str, fake_url: str, receiver: Receiver) -> dict:
    with httpx.Client(base_url=base, timeout=60) as api:
        body = {"email": "bench@example.com", "password": "a long enough passphrase", "name": "Bench",
                "workspace_name": "Bench"}
        ws = api.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
        token = api.post(f"/api/v1/workspaces/{ws}/api-tokens", json={"name": "b", "role": "admin"}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        api.put(f"/api/v1/workspaces/{ws}/providers/openai", json={"api_key": "sk-bench-0123456789",
                                                                   "api_base": fake_url}, headers=auth)
        bot = api.post(f"/api/v1/workspaces/{ws}/chatbots", json={"name": "Bench", "model": "gpt-4o-mini"},
                       headers=auth).json()
        hook = api.post(f"/api/v1/workspaces/{ws}/webhooks", headers=auth,
                        json={"url": receiver.url, "events": ["conversation.started"]}).json()
        receiver.secret = hook["secret"]
    return {"auth": auth, "chat_url": f"{base}/api/v1/workspaces/{ws}/chatbots/{bot['id']}/chat",
            "test_url": f"{base}/api/v1/workspaces/{ws}/webhooks/{hook['id']}/test",
            "deliveries_url": f"{base}/api/v1/workspaces/{ws}/webhooks/{hook['id']}/deliveries"}


def slices() -> int:
    """SLICES, or `--slices N` for more samples (a p95 of 90 chats moves a lot on a busy machine)."""
    args = sys.argv[1:]
    return int(args[args.index("--slices") + 1]) if "--slices" in args else SLICES


async def queue_burst(client: httpx.AsyncClient, target: dict, count: int) -> None:
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            response = await client.post(target["test_url"], headers=target["auth"])
            assert response.status_code == 202, response.text

    await asyncio.gather(*(worker() for _ in range(20)))


async def wait_for(receiver: Receiver, count: int, timeout: float = 300.0, target: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while receiver.count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {receiver.count()} of {count} deliveries arrived; not delivered: "
                               f"{await undelivered(target)}")
        await asyncio.sleep(0.02)


async def undelivered(target: dict | None) -> list[dict]:
    """The endpoint's deliveries that have not succeeded, with their attempts (why one is missing)."""
    if target is None:
        return []
    found, cursor = [], None
    async with httpx.AsyncClient(timeout=60) as api:
        while True:
            page = (await api.get(target["deliveries_url"], headers=target["auth"],
                                  params={"cursor": cursor} if cursor else {})).json()
            found += [d for d in page.get("items", []) if d.get("status") != "succeeded"]
            cursor = page.get("next_cursor")
            if not cursor:
                return found


async def chats(client: httpx.AsyncClient, target: dict, count: int) -> list[float]:
    firsts = []
    for _ in range(count):  # a new session each time: each chat opens a conversation
        first, _ = await ttfb(client, target["chat_url"], {"message": "What do you sell?",
                                                           "session_id": uuid.uuid4().hex}, target["auth"])
        firsts.append(first)
    return firsts


async def run(target: dict, receiver: Receiver) -> dict:
    out: dict = {}
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await chats(client, target, 5)  # warm-up (LiteLLM import, connection pools)
        await wait_for(receiver, 5)
        # Throughput: a burst queued as fast as the API takes it, drained by the worker.
        before, started = receiver.count(), time.monotonic()
        await queue_burst(client, target, BURST)
        queued_s = time.monotonic() - started
        await wait_for(receiver, before + BURST)
        last = receiver.last
        out["throughput"] = {"deliveries": BURST, "queued_in_s": round(queued_s, 2),
                             "deliveries_per_s": round(BURST / (last - started), 1)}
        idle, burst = [], []
        for _ in range(slices()):
            settled = receiver.count()
            idle += await chats(client, target, CHATS)
            await wait_for(receiver, settled + CHATS, target=target)
            settled = receiver.count()
            await queue_burst(client, target, BURST)  # queued; the worker drains it while the chats run
            burst += await chats(client, target, CHATS)
            draining = receiver.count() - settled < BURST
            await wait_for(receiver, settled + BURST + CHATS, target=target)
            out.setdefault("chats_ran_while_draining", []).append(draining)
    out["chat_idle_ttfb"], out["chat_burst_ttfb"] = summary_ms(idle), summary_ms(burst)
    out["chat_p95_burst_over_idle"] = round(percentile(burst, 95) / percentile(idle, 95), 3)
    out["chat_p50_burst_over_idle"] = round(percentile(burst, 50) / percentile(idle, 50), 3)
    # Where in a slice the slow chats are: the first few after the burst was queued (deliveries
    # already in flight when the first turn began) or throughout.
    head = [i % CHATS < HEAD for i in range(len(burst))]
    out["by_position_in_slice"] = {
        f"idle_first_{HEAD}": summary_ms([t for t, h in zip(idle, head) if h]),
        "idle_rest": summary_ms([t for t, h in zip(idle, head) if not h]),
        f"burst_first_{HEAD}": summary_ms([t for t, h in zip(burst, head) if h]),
        "burst_rest": summary_ms([t for t, h in zip(burst, head) if not h])}
    out["rejected_deliveries"] = receiver.rejected
    return out


def measure_backend(python: str, fake_url: str, env: dict) -> dict:
    receiver = Receiver()
    data_dir = tempfile.mkdtemp(prefix="mp-bench-webhooks-")
    server, line = start_process([python, "-m", "modelpilot", "serve", "--port", "0", "--data-dir", data_dir,
                                  "--log-level", os.environ.get("MP_BENCH_LOG_LEVEL", "warning")], "ModelPilot",
                                 {**env, "MODELPILOT_OUTBOUND_ALLOW_PRIVATE": "true"})
    base = line.split(" on ", 1)[1].split()[0]
    try:
        results = asyncio.run(run(setup(base, fake_url, receiver), receiver))
        results["load_average_after"] = os.getloadavg()
        return results
    finally:
        server.terminate()
        server.wait(timeout=15)
        receiver.stop()


def main() -> None:
    python = sys.executable
    fake, line = start_process([python, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    try:
        results = {"load_average_before": os.getloadavg(), "burst": BURST, "chats_per_slice": CHATS,
                   "slices": slices(), "sqlite": measure_backend(python, fake_url, {})}
        if "--sqlite-only" not in sys.argv[1:]:
            url, ours = postgres_url()
            try:
                results["postgres"] = measure_backend(python, fake_url, {"MODELPILOT_DATABASE_URL": url})
            finally:
                if ours:
                    from tests.pg_support import drop_database

                    drop_database(url)
        results["goal"] = "chat p95 with a burst of queued deliveries within 10% of idle (ratio <= 1.10)"
        write_results("webhooks", results)
    finally:
        fake.terminate()
        fake.wait(timeout=15)


if __name__ == "__main__":
    main()
