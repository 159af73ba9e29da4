"""Load: 200 concurrent widget conversations against the fake LLM, with ingestion running, for 60 s.

The server runs as its own process (`modelpilot serve`), the fake OpenAI-compatible model as
another, and this script drives both over 127.0.0.1. Each conversation sends a message, reads
the SSE stream to its `done` event, and sends the next one at once. A second bot is fed a text
document every few seconds so the ingestion worker (chunking, embedding, writes) competes for
the same writer and CPU.

Reported: replies/s, time to first piece and to `done` (p50/p95/p99), the same for the fake
model called directly at the same concurrency (the baseline, so the difference is what
ModelPilot adds), errors by kind, "database is locked" lines in the server log, documents
indexed, the server's peak RSS (VmHWM), and each process's CPU per reply (the load generator,
the fake, ModelPilot). The load generator speaks HTTP/1.1 over asyncio streams (_rawhttp.py):
with httpx it used a whole core itself and set the pace of both runs.

    ./scripts/bench load                 # 60 s, 200 conversations
    .venv/bin/python bench/load.py --seconds 20 --conversations 50
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import cpu_seconds, summary_ms, write_results
from _rawhttp import Connection

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://shop.example.com"
PASSWORD = "a long enough passphrase"
PACED_MARK = "[[slow]] "  # tests/fakes/llm.py: 40 pieces, 100 ms apart


def start_process(argv: list[str], env: dict, log_path: Path, pattern: str,
                  cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=log, cwd=cwd)
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
        self.elapsed = 0.0


async def one_reply(conn: Connection, path: str, body: dict, headers: dict, tally: Tally) -> None:
    try:
        status, first, total, text = await conn.post_json(path, body, headers)
    except (OSError, asyncio.IncompleteReadError) as exc:
        tally.errors[type(exc).__name__] += 1
        conn.close()
        await asyncio.sleep(0.05)
        return
    if status != 200:
        tally.errors[f"http_{status}"] += 1
    elif b'"done"' in text or b'"finish_reason"' in text:
        tally.first.append(first)
        tally.total.append(total)
    else:
        match = re.search(rb'"code":\s*"([a-z_]+)"', text)
        tally.errors[match.group(1).decode() if match else "no_done_event"] += 1


async def conversation(base: str, path_of, body_of, headers, deadline: float, tally: Tally, index: int) -> None:
    conn = Connection(base)
    turn = 0
    try:
        while time.monotonic() < deadline:
            await one_reply(conn, path_of(index), body_of(index, turn), headers, tally)
            turn += 1
    finally:
        conn.close()


async def drive(base: str, count: int, seconds: float, path_of, body_of, headers: dict) -> Tally:
    """`count` conversations, each on its own keep-alive connection (bench/_rawhttp.py: a driver
    lean enough that the server, not the load generator, sets the pace)."""
    tally = Tally()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(conversation(base, path_of, body_of, headers, deadline, tally, i)
                           for i in range(count)))
    tally.elapsed = time.monotonic() - started  # the replies in flight at the deadline end after it
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


def summarise(tally: Tally) -> dict:
    return {"replies": len(tally.total), "replies_per_s": round(len(tally.total) / tally.elapsed, 1),
            "first_piece": summary_ms(tally.first), "complete": summary_ms(tally.total),
            "errors": dict(tally.errors)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--no-ingest", action="store_true", help="chat only, to see what ingestion costs chat")
    parser.add_argument("--paced", action="store_true",
                        help="the fake answers like a model, 40 pieces 100 ms apart (4 s a reply), in both runs: "
                             "whether ModelPilot keeps up with 200 streams, rather than its CPU ceiling")
    parser.add_argument("--server-tree", type=Path, default=ROOT,
                        help="serve ModelPilot from this checkout (an older commit, to compare); results are "
                             "not written then, only printed")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mp-load-"))
    llm, llm_url = start_process([sys.executable, "tests/fakes/llm.py"], dict(os.environ), work / "llm.log",
                                 r"(http://127\.0\.0\.1:\d+/v1)")
    server, url = start_process([sys.executable, "-m", "modelpilot", "serve"], server_env(work / "data"),
                                work / "server.log", r"on (http://127\.0\.0\.1:\d+)", cwd=args.server_tree)
    try:
        wait_healthy(url)
        admin, ws, chat_bot, docs_bot = set_up(url, llm_url)
        processes = {"load_generator": os.getpid(), "fake_llm": llm.pid, "modelpilot": server.pid}
        before = {name: cpu_seconds(pid) for name, pid in processes.items()}
        baseline = asyncio.run(drive(
            llm_url, args.conversations, min(15.0, args.seconds), lambda i: "/chat/completions",
            lambda i, t: {"model": "gpt-4o-mini", "stream": True,
                          "messages": [{"role": "user", "content": PACED_MARK * args.paced + "hi"}]},
            {"authorization": "Bearer sk-bench"}))
        middle = {name: cpu_seconds(pid) for name, pid in processes.items()}
        results = asyncio.run(run_load(url, admin, ws, chat_bot, docs_bot, args))
        after = {name: cpu_seconds(pid) for name, pid in processes.items()}
        results["baseline_fake_llm_direct"] = summarise(baseline)
        # Who spent the machine's CPU, per reply: a load generator near a whole core would be
        # measuring itself. ModelPilot's figure includes its ingestion when that runs.
        for key, start, end, replies in (("baseline_fake_llm_direct", before, middle, len(baseline.total)),
                                         ("widget_chat", middle, after, results["widget_chat"]["replies"])):
            results[key]["cpu_ms_per_reply"] = {name: round((end[name] - start[name]) * 1000 / max(replies, 1), 2)
                                                for name in processes}
        results["replies_per_s_over_fake"] = round(
            results["widget_chat"]["replies_per_s"] / results["baseline_fake_llm_direct"]["replies_per_s"], 3)
        log_text = (work / "server.log").read_text(errors="replace")
        results["database_is_locked_lines"] = log_text.count("database is locked")
        results["server_errors_logged"] = len(re.findall(r"\bERROR\b|\"level\": \"error\"", log_text))
        results["peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
        chat = results["widget_chat"]
        base = results["baseline_fake_llm_direct"]
        results["added_latency_ms"] = {
            key: round(chat["complete"][key] - base["complete"][key], 2) for key in ("p50_ms", "p95_ms", "p99_ms")}
        results["config"] = {"seconds": args.seconds, "conversations": args.conversations, "cpus": os.cpu_count(),
                             "ingestion": not args.no_ingest, "paced": args.paced,
                             "load_average_after": os.getloadavg()[0]}
        # The configuration is "load"; other runs are kept beside it, named by their shape.
        standard = args.conversations == 200 and args.seconds == 60
        name = "load" if standard else f"load_c{args.conversations}_s{int(args.seconds)}"
        if args.server_tree.resolve() == ROOT:
            write_results(name + ("_paced" if args.paced else "") + ("_no_ingest" if args.no_ingest else ""), results)
        else:
            results["server_tree"] = str(args.server_tree)
            print(json.dumps(results, indent=2))
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
        url, args.conversations, args.seconds, lambda i: f"/api/v1/widget/{chat_bot}/chat",
        lambda i, t: {"session_id": f"load-visitor-{i:04d}-session",
                      "message": PACED_MARK * args.paced + f"Question {t} from {i}?"},
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
    return {"widget_chat": summarise(tally),
            "ingestion": {"documents_added": len(doc_ids), "upload_errors": dict(upload_errors),
                          "final_statuses": dict(statuses)}}


if __name__ == "__main__":
    main()
