"""Thread hops to the database per chat turn: how often one chat waits on a connection's thread.

Every `await` on an aiosqlite connection is a round trip from the event loop to that
connection's thread and back; inside the write lock each one also holds every other writer
back. This counts them (aiosqlite.Connection._execute, through which every call passes) for one
dashboard chat against the fake provider, in-process, after a warm-up turn, and splits them
into hops on the writer connection and hops on readers. No baseline in the same run: the
figure is a count, the same on any machine; compare it with the commit before a change.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402

from _common import write_results  # noqa: E402
from tests.fakes.llm import start_fake_llm  # noqa: E402
from tests.support import Api, make_settings, start_server  # noqa: E402

TURNS = 5


def main() -> None:
    hops: Counter = Counter()
    writers: set[int] = set()
    original = aiosqlite.Connection._execute

    async def counting(self, fn, *args, **kwargs):
        hops["writer" if id(self) in writers else "reader"] += 1
        return await original(self, fn, *args, **kwargs)

    fake = start_fake_llm()
    with tempfile.TemporaryDirectory() as data:
        live = start_server(make_settings(Path(data), provider_allow_private=True))
        try:
            writers.add(id(live.app.state["db"]._writer))
            api = Api(live.url)
            api.setup_owner()
            api.add_provider(api.ws, "openai", "sk-bench-0123456789abcdef", fake.url)
            bot = api.create_bot(api.ws, model="gpt-4o-mini")
            api.chat(api.ws, bot["id"], "warm-up", session_id="bench")
            aiosqlite.Connection._execute = counting
            for turn in range(TURNS):
                api.chat(api.ws, bot["id"], f"question {turn}", session_id="bench")
            aiosqlite.Connection._execute = original
        finally:
            live.stop()
            fake.stop()
    per_turn = {kind: round(count / TURNS, 1) for kind, count in sorted(hops.items())}
    per_turn["total"] = round(sum(hops.values()) / TURNS, 1)
    print(f"database thread hops per chat turn: {per_turn}")
    write_results("db_hops", {"turns": TURNS, "hops_per_turn": per_turn})


if __name__ == "__main__":
    main()
