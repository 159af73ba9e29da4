"""The binary on Postgres: psycopg, libpq and the Postgres migrations are inside it.

The database is new and empty (not migrated): the binary's own start-up migrates it, so the
bundled migrations/postgres/*.sql are what made its schema. Skipped like the other binary tests
when dist/modelpilot is not built.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from modelpilot.core.pg import connect_sync as connect_postgres
from tests.binary.runner import RunningBinary, skip_unless_testable
from tests.fakes.llm import start_fake_llm
from tests.pg_support import drop_database, fresh_database
from tests.support import Api

pytestmark = skip_unless_testable()


@pytest.fixture
def database():
    url = fresh_database(migrated=False)
    yield url
    drop_database(url)


@pytest.fixture
def fake_llm():
    running = start_fake_llm()
    yield running
    running.stop()


def test_the_binary_serves_from_postgres(tmp_path: Path, database: str, fake_llm):
    # PSYCOPG_IMPL=binary: the bundled psycopg_binary and its libpq, not a libpq the machine has.
    with RunningBinary(tmp_path, MODELPILOT_DATABASE_URL=database, MODELPILOT_NODE_ID="binary-1",
                       PSYCOPG_IMPL="binary") as running:
        running.wait_healthy()
        with Api(running.url) as owner:
            health = owner.get("/healthz").json()
            assert (health["backend"], health["node"]) == ("postgres", "binary-1"), health
            owner.setup_owner()
            owner.add_provider(owner.ws, "openai", "sk-good-0123456789abcdef", fake_llm.url)
            bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
            done = owner.chat(owner.ws, bot["id"], "Hello from the binary")[-1]
            assert done.get("done") is True, done
        # uvicorn re-raises SIGTERM after its shutdown: "terminated by SIGTERM" is the clean stop.
        assert running.terminate() in (0, -signal.SIGTERM), running.output
        assert "database closed cleanly" in running.output
    assert not (tmp_path / "data" / "modelpilot.db").exists() and not list(tmp_path.rglob("modelpilot.db"))
    conn = connect_postgres(database)
    try:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] >= 8
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 1
        roles = [r[0] for r in conn.execute("SELECT role FROM messages ORDER BY rowid").fetchall()]
        assert roles == ["user", "assistant"]
    finally:
        conn.close()
