"""Load: 200 concurrent widget conversations against the fake LLM, with ingestion running, for 60 s.

The server runs as its own process (`modelpilot serve`), the fake OpenAI-compatible model as
another, and this script drives both over 127.0.0.1. Each conversation sends a message, reads
the SSE stream to its `done` event, and sends the next one at once. A second bot is fed a text
document every few seconds so the ingestion worker (chunking, embedding, writes) competes for
the same writer and CPU.

Reported: replies/s, time to first piece and to `done` (p50/p95/p99), the same for the fake
model called directly at the same concurrency (the baseline, so the difference is what
ModelPilot adds), errors by kind, "database is locked" lines in the server log, documents
indexed, and the server's peak RSS (VmHWM).

    ./scripts/bench load                 # 60 s, 200 conversations
    .venv/bin/python bench/load.py --seconds 20 --conversations 50
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import summary_ms, write_results

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://shop.example.com"
PASSWORD = "a long enough passphrase"


def start_process(argv: list[str], env: dict, log_path: Path, pattern: str) -> tuple[subprocess.Popen, str]:
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=log, cwd=ROOT)
    log.close()
    line = proc.stdout.readline().decode()
    match = re.search(pattern, line)
    if not match:
        proc.kill()
        raise SystemExit(f"{argv[2:]} did not start: {line!r} (log: {log_path})")
    return proc, match.group(1)


def server_env(data_dir: Path) -> dict:
    return {**os.environ, "MODELPILOT_DATA_DIR": str(data_dir), "MODELPILOT_PORT": "0",
            "MODELPILOT_LOG_LEVEL": "warning", "LITELLM_OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1",
            "MODELPILOT_BACKUP_INTERVAL_HOURS": "0",
            "MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE": "1000000",
            "MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE": "1000000",
            "MODELPILOT_WIDGET_IP_REQUESTS_PER_MINUTE": "1000000",
            "MODELPILOT_WIDGET_DAILY_MESSAGES": "10000000"}


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become healthy")


def set_up(url: str, llm_url: str) -> tuple[httpx.Client, str, str, str]:
    admin = httpx.Client(base_url=url, timeout=60)
    body = {"email": "bench@example.com", "password": PASSWORD, "name": "Bench", "workspace_name": "Bench"}
    ws = admin.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
    admin.put(f"/api/v1/workspaces/{ws}/providers/openai", json={"api_key": "sk-bench-0123456789", "api_base": llm_url})
    bot = {"name": "Load", "model": "openai/gpt-4o-mini", "published": True, "allowed_origins": [ORIGIN]}
    chat_bot = admin.post(f"/api/v1/workspaces/{ws}/chatbots", json=bot).json()["id"]
    docs_bot = admin.post(f"/api/v1/workspaces/{ws}/chatbots", json={**bot, "name": "Docs"}).json()["id"]
    return admin, ws, chat_bot, docs_bot


class Tally:
    def __init__(self) -> None:
        self.first: list[float] = []
        self.total: list[float] = []
        self.errors: collections.Counter = collections.Counter()


async def one_reply(client: httpx.AsyncClient, path: str, body: dict, headers: dict, tally: Tally) -> None:
    started = time.perf_counter()
    first = None
    text = ""
    try:
        async with client.stream("POST", path, json=body, headers=headers) as response:
            if response.status_code != 200:
                tally.errors[f"http_{response.status_code}"] += 1
                await response.aread()
                return
            async for piece in response.aiter_text():
                if first is None:
                    first = time.perf_counter() - started
                text += piece
    except httpx.HTTPError as exc:
        tally.errors[type(exc).__name__] += 1
        return
    if '"done"' in text or '"finish_reason"' in text:
        tally.first.append(first or 0.0)
        tally.total.append(time.perf_counter() - started)
    else:
        match = re.search(r'"code":\s*"([a-z_]+)"', text)
        tally.errors[match.group(1) if match else "no_done_event"] += 1


async def conversation(client, path_of, body_of, headers, deadline: float, tally: Tally, index: int) -> None:
    turn = 0
    while time.monotonic() < deadline:
        await one_reply(client, path_of(index), body_of(index, turn), headers, tally)
        turn += 1


async def drive(count: int, seconds: float, path_of, body_of, headers: dict) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(conversation(client, path_of, body_of, headers, deadline, tally, i)
                               for i in range(count)))
    return tally


async def ingest(url: str, admin_cookies, ws: str, bot: str, deadline: float,
                 errors: collections.Counter) -> list[str]:
    """A new ~6 kB text document every 3 s while the load runs."""
    ids = []
    async with httpx.AsyncClient(base_url=url, timeout=120, cookies=admin_cookies) as client:
        number = 0
        while time.monotonic() < deadline:
            words = " ".join(f"topic{(number * 31 + i) % 997} detail{i % 89}" for i in range(600))
            try:
                response = await client.post(f"/api/v1/workspaces/{ws}/chatbots/{bot}/documents/text",
                                             json={"title": f"Doc {number}", "text": words})
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] += 1
            else:
                if response.status_code == 202:
                    ids.append(response.json()["id"])
                else:
                    errors[f"http_{response.status_code}"] += 1
            number += 1
            await asyncio.sleep(3)
    return ids


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def summarise(tally: Tally, seconds: float) -> dict:
    return {"replies": len(tally.total), "replies_per_s": round(len(tally.total) / seconds, 1),
            "first_piece": summary_ms(tally.first), "complete": summary_ms(tally.total),
            "errors": dict(tally.errors)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--no-ingest", action="store_true", help="chat only, to see what ingestion costs chat")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mp-load-"))
    llm, llm_url = start_process([sys.executable, "tests/fakes/llm.py"], dict(os.environ), work / "llm.log",
                                 r"(http://127\.0\.0\.1:\d+/v1)")
    server, url = start_process([sys.executable, "-m", "modelpilot", "serve"], server_env(work / "data"),
                                work / "server.log", r"on (http://127\.0\.0\.1:\d+)")
    try:
        wait_healthy(url)
        admin, ws, chat_bot, docs_bot = set_up(url, llm_url)
        baseline = asyncio.run(drive(
            args.conversations, min(15.0, args.seconds), lambda i: llm_url + "/chat/completions",
            lambda i, t: {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
            {"authorization": "Bearer sk-bench"}))
        results = asyncio.run(run_load(url, admin, ws, chat_bot, docs_bot, args))
        results["baseline_fake_llm_direct"] = summarise(baseline, min(15.0, args.seconds))
        log_text = (work / "server.log").read_text(errors="replace")
        results["database_is_locked_lines"] = log_text.count("database is locked")
        results["server_errors_logged"] = len(re.findall(r"\bERROR\b|\"level\": \"error\"", log_text))
        results["peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
        chat = results["widget_chat"]
        base = results["baseline_fake_llm_direct"]
        results["added_latency_ms"] = {
            key: round(chat["complete"][key] - base["complete"][key], 2) for key in ("p50_ms", "p95_ms", "p99_ms")}
        results["config"] = {"seconds": args.seconds, "conversations": args.conversations, "cpus": os.cpu_count(),
                             "ingestion": not args.no_ingest, "load_average_after": os.getloadavg()[0]}
        # The configuration is "load"; other runs are kept beside it, named by their shape.
        standard = args.conversations == 200 and args.seconds == 60
        name = "load" if standard else f"load_c{args.conversations}_s{int(args.seconds)}"
        write_results(name + ("_no_ingest" if args.no_ingest else ""), results)
    finally:
        for proc in (server, llm):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def run_load(url: str, admin: httpx.Client, ws: str, chat_bot: str, docs_bot: str, args) -> dict:
    deadline = time.monotonic() + args.seconds
    upload_errors: collections.Counter = collections.Counter()
    ingest_until = 0 if args.no_ingest else deadline
    ingestion = asyncio.create_task(ingest(url, admin.cookies, ws, docs_bot, ingest_until, upload_errors))
    tally = await drive(
        args.conversations, args.seconds, lambda i: f"{url}/api/v1/widget/{chat_bot}/chat",
        lambda i, t: {"session_id": f"load-visitor-{i:04d}-session", "message": f"Question {t} from {i}?"},
        {"origin": ORIGIN})
    doc_ids = await ingestion
    statuses = collections.Counter()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        docs = admin.get(f"/api/v1/workspaces/{ws}/chatbots/{docs_bot}/documents").json()
        statuses = collections.Counter(d["status"] for d in docs)
        if statuses.get("queued", 0) + statuses.get("processing", 0) == 0:
            break
        await asyncio.sleep(1)
    return {"widget_chat": summarise(tally, args.seconds),
            "ingestion": {"documents_added": len(doc_ids), "upload_errors": dict(upload_errors),
                          "final_statuses": dict(statuses)}}


if __name__ == "__main__":
    main()
