"""Ingestion on every core: chunks/s when nobody chats, and chat time-to-first-byte while a document
indexes, against a baseline in the same run.

Each configuration is a `modelpilot serve` process on a fresh SQLite data dir (plus the fake
OpenAI-compatible model), measured the same way, configurations alternating ROUNDS times:
  quiet        the corpus (Python docs pages, uploaded as files) indexed with nobody chatting:
               chunks/s from the first upload to the last document indexed;
  chat_alone   CHATTERS visitors chatting one message after another (each waits for its answer,
               then PAUSE_S) with no ingestion: TTFB p50/p95, the reference;
  chat_ingest  the same chats while the corpus indexes again into another bot: TTFB p50/p95 and the
               chunks/s reached meanwhile.
Configurations:
  baseline     `--baseline-tree DIR` (a checkout of the code to compare with, e.g.
               `git worktree add /tmp/base 2cac44f`), else this tree with
               MODELPILOT_INGEST_EMBED_THREADS=1 (one batch at a time, as before);
  cores        this tree with its defaults (one knowledge thread per core).
Goals (issue 22): quiet chunks/s cores / baseline >= 1.8; chat_ingest p95 cores / baseline <= 1.10.

    ./scripts/bench ingest_cores
    .venv/bin/python bench/ingest_cores.py --baseline-tree /tmp/base --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from _common import summary_ms, write_results
from _docs_site import require_corpus
from chat_overhead import start_process, ttfb

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["library/json.html", "library/csv.html", "library/heapq.html", "library/textwrap.html",
         "library/shlex.html", "library/bisect.html", "library/argparse.html", "library/datetime.html"]
CHATTERS = 2
PAUSE_S = 0.2
ALONE_SECONDS = 8.0
ROUNDS = 2


class Server:
    def __init__(self, tree: Path, env: dict, fake_url: str) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="mp-bench-ingest-")
        env = {**env, "PYTHONPATH": str(tree), "MODELPILOT_LOG_LEVEL": "warning",
               "MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE": "1000000",
               "MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE": "1000000"}
        self.proc, line = start_process([sys.executable, "-m", "modelpilot", "serve", "--port", "0",
                                         "--data-dir", self.data_dir], "ModelPilot", env, cwd=tree)
        self.base = line.split(" on ", 1)[1].split()[0]
        self.api = httpx.Client(base_url=self.base, timeout=120)
        body = {"email": "bench@example.com", "password": "a long enough passphrase", "name": "Bench",
                "workspace_name": "Bench"}
        self.ws = self.api.post("/api/v1/auth/setup", json=body).json()["workspaces"][0]["id"]
        token = self.api.post(f"/api/v1/workspaces/{self.ws}/api-tokens",
                              json={"name": "bench", "role": "admin"}).json()["token"]
        self.auth = {"Authorization": f"Bearer {token}"}
        self.api.put(f"/api/v1/workspaces/{self.ws}/providers/openai", headers=self.auth,
                     json={"api_key": "sk-bench-0123456789", "api_base": fake_url}).raise_for_status()
        chat_bot = self.new_bot("gpt-4o-mini")
        self.chat_url = f"{self.base}/api/v1/workspaces/{self.ws}/chatbots/{chat_bot}/chat"

    def new_bot(self, model: str = "builtin/extractive") -> str:
        response = self.api.post(f"/api/v1/workspaces/{self.ws}/chatbots", headers=self.auth,
                                 json={"name": f"Bench {time.monotonic_ns()}", "model": model})
        response.raise_for_status()
        return response.json()["id"]

    def index(self, files: list[tuple[str, bytes]]) -> dict:
        """Uploads the files to a new bot and waits until all are indexed: chunks and seconds."""
        bot = self.new_bot()
        docs = f"/api/v1/workspaces/{self.ws}/chatbots/{bot}/documents"
        started = time.perf_counter()
        ids = [self.api.post(docs, headers=self.auth, files={"file": f}).json()["id"] for f in files]
        chunks = 0
        for doc_id in ids:
            while True:
                doc = self.api.get(f"{docs}/{doc_id}", headers=self.auth).json()
                if doc["status"] in ("indexed", "error"):
                    break
                time.sleep(0.05)
            assert doc["status"] == "indexed", doc
            chunks += doc["chunk_count"]
        seconds = time.perf_counter() - started
        return {"chunks": chunks, "seconds": round(seconds, 2), "chunks_per_s": round(chunks / seconds, 2)}

    def stop(self) -> None:
        self.api.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def chat_until(server: Server, done: asyncio.Future | None, seconds: float) -> list[float]:
    """CHATTERS visitors chatting until `done` resolves (or for `seconds`): first-byte times."""
    firsts: list[float] = []
    body = {"message": "What does the json module do?"}
    deadline = time.perf_counter() + seconds

    async def visitor(client: httpx.AsyncClient) -> None:
        while (done is not None and not done.done()) or (done is None and time.perf_counter() < deadline):
            first, _ = await ttfb(client, server.chat_url, body, server.auth)
            firsts.append(first)
            await asyncio.sleep(PAUSE_S)

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(visitor(client) for _ in range(CHATTERS)))
    return firsts


async def chat_during_ingest(server: Server, files) -> tuple[list[float], dict]:
    loop = asyncio.get_running_loop()
    indexing = loop.run_in_executor(None, server.index, files)
    firsts = await chat_until(server, indexing, 0)
    return firsts, await indexing


def measure(name: str, tree: Path, env: dict, fake_url: str, files) -> dict:
    server = Server(tree, env, fake_url)
    try:
        server.index(files[:1])  # the model loaded and warm before anything is timed
        quiet = server.index(files)
        alone = asyncio.run(chat_until(server, None, ALONE_SECONDS))
        during, indexed = asyncio.run(chat_during_ingest(server, files))
        return {"config": name, "quiet": quiet, "chat_alone": summary_ms(alone),
                "chat_ingest": {**summary_ms(during), "indexing": indexed},
                "_alone": alone, "_during": during}
    finally:
        server.stop()


def pooled(runs: list[dict]) -> dict:
    alone = [t for r in runs for t in r["_alone"]]
    during = [t for r in runs for t in r["_during"]]
    return {"quiet_chunks_per_s": round(statistics.fmean(r["quiet"]["chunks_per_s"] for r in runs), 2),
            "chat_alone": summary_ms(alone), "chat_ingest": summary_ms(during),
            "ingest_under_chat_chunks_per_s": round(statistics.fmean(
                r["chat_ingest"]["indexing"]["chunks_per_s"] for r in runs), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baseline-tree", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    root = require_corpus()
    files = [(Path(p).name, (root / p).read_bytes()) for p in PAGES]
    fake, line = start_process([sys.executable, "-m", "tests.fakes.llm"], "http://")
    configs = [("baseline", args.baseline_tree.resolve(), {}) if args.baseline_tree
               else ("baseline", ROOT, {"MODELPILOT_INGEST_EMBED_THREADS": "1"}),
               ("cores", ROOT, {})]
    results: dict = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count(),
                     "baseline_is": str(args.baseline_tree or "MODELPILOT_INGEST_EMBED_THREADS=1"), "runs": []}
    try:
        for _ in range(args.rounds):
            for name, tree, env in configs:
                run = measure(name, tree, env, line.strip(), files)
                print(name, {k: v for k, v in run.items() if not k.startswith("_")}, flush=True)
                results["runs"].append(run)
    finally:
        fake.terminate()
        fake.wait(timeout=15)
    for name, _, _ in configs:
        results[name] = pooled([r for r in results["runs"] if r["config"] == name])
    base, cores = results["baseline"], results["cores"]
    results["ratios"] = {
        "quiet_chunks_per_s": round(cores["quiet_chunks_per_s"] / base["quiet_chunks_per_s"], 2),
        "chat_ingest_p95": round(cores["chat_ingest"]["p95_ms"] / base["chat_ingest"]["p95_ms"], 3),
        "chat_ingest_p50": round(cores["chat_ingest"]["p50_ms"] / base["chat_ingest"]["p50_ms"], 3),
        "ingest_under_chat_chunks_per_s": round(cores["ingest_under_chat_chunks_per_s"]
                                                / base["ingest_under_chat_chunks_per_s"], 2)}
    results["goal"] = "quiet_chunks_per_s >= 1.8, chat_ingest_p95 <= 1.10"
    results["load_average_after"] = os.getloadavg()
    for run in results["runs"]:
        for key in [k for k in run if k.startswith("_")]:
            del run[key]
    print("cores / baseline:", results["ratios"])
    write_results("ingest_cores", results)


if __name__ == "__main__":
    main()
