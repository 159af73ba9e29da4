"""What one chat turn costs the server, this tree against a baseline checkout, side by side in one run.

bench/chat_overhead.py measures one server at a time, so two of its runs differ by whatever else the
machine was doing meanwhile. Here two `modelpilot serve` processes run at the same time (the
baseline tree and this one, same fake model, same backend) and are driven in alternating blocks of
BLOCK sequential chats, ROUNDS times: whatever disturbs one block disturbs its neighbour too.

Per server: CPU per chat (user + system of the server process over its blocks) and time to the
first byte (p50/p95), for an API-token chat and a widget chat; then new / baseline. On SQLite, then
on Postgres (two fresh databases on the tests' pgserver, or `--sqlite-only`).

    git worktree add /tmp/base <rev>
    .venv/bin/python bench/turn_cost.py --baseline-tree /tmp/base
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import httpx

from _common import cpu_seconds, summary_ms, write_results
from chat_overhead import postgres_url, setup_workspace, start_process, ttfb

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 40
ROUNDS = 6
ORIGIN = "https://shop.example.com"


class Server:
    def __init__(self, tree: Path, fake_url: str, env: dict) -> None:
        data_dir = tempfile.mkdtemp(prefix="mp-bench-turn-")
        env = {**env, "PYTHONPATH": str(tree), "MODELPILOT_WIDGET_IP_MESSAGES_PER_MINUTE": "1000000",
               "MODELPILOT_WIDGET_SESSION_MESSAGES_PER_MINUTE": "1000000",
               "MODELPILOT_WIDGET_IP_REQUESTS_PER_MINUTE": "1000000"}
        self.proc, line = start_process([sys.executable, "-m", "modelpilot", "serve", "--port", "0", "--data-dir",
                                         data_dir, "--log-level", "warning"], "ModelPilot", env, cwd=tree)
        base = line.split(" on ", 1)[1].split()[0]
        self.api_url, _, token = setup_workspace(base, fake_url)
        self.auth = {"Authorization": f"Bearer {token}"}
        bot_path = self.api_url.split("/api/v1/", 1)[1].rsplit("/chat", 1)[0]
        httpx.patch(f"{base}/api/v1/{bot_path}", headers=self.auth, timeout=30,
                    json={"published": True, "allowed_origins": [ORIGIN]}).raise_for_status()
        self.widget_url = f"{base}/api/v1/widget/{bot_path.rsplit('/', 1)[1]}/chat"
        self.seconds = {"api": 0.0, "widget": 0.0}
        self.firsts: dict[str, list[float]] = {"api": [], "widget": []}

    def request(self, kind: str, i: int) -> tuple[str, dict, dict]:
        if kind == "api":
            return self.api_url, {"message": "What do you sell?", "session_id": f"api-{i % 8}"}, self.auth
        return self.widget_url, {"message": "What do you sell?", "session_id": f"widget-session-{i % 8:08d}"}, \
            {"Origin": ORIGIN}

    async def block(self, client: httpx.AsyncClient, kind: str, start: int) -> None:
        before = cpu_seconds(self.proc.pid)
        for i in range(start, start + BLOCK):
            first, _ = await ttfb(client, *self.request(kind, i))
            self.firsts[kind].append(first)
        self.seconds[kind] += cpu_seconds(self.proc.pid) - before

    def figures(self, rounds: int) -> dict:
        return {kind: {"cpu_ms_per_chat": round(self.seconds[kind] * 1000 / (rounds * BLOCK), 3),
                       "ttfb": summary_ms(self.firsts[kind])} for kind in self.seconds}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def drive(servers: dict[str, Server], rounds: int) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for server in servers.values():  # warm-up, not counted
            for kind in ("api", "widget"):
                for i in range(BLOCK):
                    await ttfb(client, *server.request(kind, i))
        await asyncio.sleep(2.0)
        order = list(servers.values())
        for round_no in range(rounds):
            for kind in ("api", "widget"):
                for server in (order if round_no % 2 == 0 else order[::-1]):
                    await server.block(client, kind, round_no * BLOCK)


def measure(baseline: Path, fake_url: str, envs: tuple[dict, dict], rounds: int) -> dict:
    servers = {"baseline": Server(baseline, fake_url, envs[0]), "new": Server(ROOT, fake_url, envs[1])}
    try:
        asyncio.run(drive(servers, rounds))
    finally:
        for server in servers.values():
            server.stop()
    out = {name: server.figures(rounds) for name, server in servers.items()}
    out["new_over_baseline"] = {
        kind: {"cpu_ms_per_chat": round(out["new"][kind]["cpu_ms_per_chat"] / out["baseline"][kind]["cpu_ms_per_chat"], 3),
               "ttfb_p50": round(out["new"][kind]["ttfb"]["p50_ms"] / out["baseline"][kind]["ttfb"]["p50_ms"], 3)}
        for kind in ("api", "widget")}
    out["load_average_after"] = os.getloadavg()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baseline-tree", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    fake, line = start_process([sys.executable, "-m", "tests.fakes.llm"], "http://")
    fake_url = line.strip()
    results: dict = {"load_average_before": os.getloadavg(), "baseline_tree": str(args.baseline_tree),
                     "block": BLOCK, "rounds": args.rounds}
    try:
        results["sqlite"] = measure(args.baseline_tree.resolve(), fake_url, ({}, {}), args.rounds)
        print("sqlite", results["sqlite"]["new_over_baseline"], flush=True)
        if not args.sqlite_only:
            made = [postgres_url(), postgres_url()]
            try:
                envs = tuple({"MODELPILOT_DATABASE_URL": url} for url, _ in made)
                results["postgres"] = measure(args.baseline_tree.resolve(), fake_url, envs, args.rounds)
                print("postgres", results["postgres"]["new_over_baseline"], flush=True)
            finally:
                for url, ours in made:
                    if ours:
                        from tests.pg_support import drop_database

                        drop_database(url)
    finally:
        fake.terminate()
        fake.wait(timeout=15)
    for backend in ("sqlite", "postgres"):
        for name in ("baseline", "new"):
            if backend in results:
                print(backend, name, results[backend][name])
    write_results("turn_cost", results)


if __name__ == "__main__":
    main()
