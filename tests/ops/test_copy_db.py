"""`modelpilot copy-db`: a SQLite instance moved onto an empty Postgres, checked through the API.

Always on Postgres (whatever MP_TEST_BACKEND says): the source is a real SQLite instance built
through the API, the target a fresh Postgres database from tests/pg_support.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlean

from modelpilot import cli
from modelpilot.core.database import connect_sync_for
from modelpilot.core.db import connect_sync
from modelpilot.core.pg import connect_sync as connect_postgres
from modelpilot.ops.copy_repo import sqlite_sample_rowids
from modelpilot.ops.jobs import register_ops_jobs
from tests.knowledge.conftest import add_text, docs_path, wait_done
from tests.pg_support import drop_database, fresh_database
from tests.support import Api, make_settings, start_server

FACTS = ("Opening hours. The Acme bakery in Lyon opens at 8 am on weekdays and at 9 am on Sundays. "
         "Parking behind the shop is free for customers. We bake sourdough bread every morning.")


def run_cli(*argv: str) -> int:
    return cli.main(list(argv))


@pytest.fixture
def target():
    """A new, empty database, not even migrated: copy-db does that."""
    url = fresh_database(migrated=False)
    yield url
    drop_database(url)


@pytest.fixture
def source(tmp_path, fake_llm) -> dict:
    """A stopped SQLite instance with an owner, a provider key, a bot, an indexed text and a chat."""
    live = start_server(make_settings(tmp_path / "data", database_url=""))
    api = Api(live.url)
    try:
        api.setup_owner()
        api.add_provider(api.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
        bot = api.create_bot(api.ws, model="gpt-4o-mini")
        doc = add_text(api, bot["id"], "Opening hours", FACTS)
        assert wait_done(api, bot["id"], doc["id"])["status"] == "indexed"
        done = api.chat(api.ws, bot["id"], "When do you open on Sundays?")[-1]
        assert done.get("done") is True and done["sources"], done
        usage = api.ok("GET", f"/api/v1/workspaces/{api.ws}/analytics/usage")["totals"]
        return {"settings": live.settings, "ws": api.ws, "bot": bot["id"], "doc": doc["id"],
                "conversation": done["conversation_id"], "usage": usage}
    finally:
        api.close()
        live.stop()


def counts(conn, tables: tuple[str, ...]) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


TABLES = ("users", "sessions", "workspaces", "memberships", "providers", "chatbots", "documents", "chunks",
          "chunk_vectors", "conversations", "messages", "usage_events", "jobs", "audit_log", "embedding_index")


def test_the_copied_instance_serves_through_the_api(source, target, tmp_path, capsys):
    data_dir = source["settings"].data_dir
    assert run_cli("copy-db", "--to", target, "--data-dir", str(data_dir)) == 0
    out = capsys.readouterr().out
    assert "chunk_vectors" in out and "row counts equal" in out and "sampled vector(s) identical" in out

    sqlite, pg = connect_sync(source["settings"].db_path, readonly=True), connect_postgres(target)
    try:
        before, after = counts(sqlite, TABLES), counts(pg, TABLES)
        assert before == after and after["chunk_vectors"] == after["chunks"] > 0 and after["messages"] == 2
        for line in out.splitlines():  # a line per table, with its count
            if line.strip().startswith(tuple(f"{t} " for t in TABLES)):
                name, count, _ = line.split()
                assert int(count) == before[name]
        assert pg.execute("SELECT body FROM documents").fetchone()[0] == \
            sqlite.execute("SELECT body FROM documents").fetchone()[0]
        order = "SELECT rowid, id FROM messages ORDER BY rowid"
        assert [tuple(r) for r in pg.execute(order).fetchall()] == [tuple(r) for r in sqlite.execute(order).fetchall()]
        rowid = sqlite_sample_rowids(sqlite, 1)[0]
        blob = sqlite.execute("SELECT embedding FROM chunk_vectors WHERE rowid = ?", (rowid,)).fetchone()[0]
        copied = pg.execute("SELECT embedding::real[] FROM chunk_vectors WHERE rowid = ?", (rowid,)).fetchone()[0]
        import numpy as np
        assert np.array_equal(np.frombuffer(blob, dtype=np.float32), np.asarray(copied, dtype=np.float32))
    finally:
        sqlite.close()
        pg.close()

    # The same data directory (its secret.key opens the copied provider key), now on Postgres.
    live = start_server(make_settings(data_dir, database_url=target))
    api = Api(live.url)
    try:
        assert api.get("/healthz").json()["backend"] == "postgres"
        api.login("owner@example.com")
        ws, bot = source["ws"], source["bot"]
        detail = api.ok("GET", f"/api/v1/workspaces/{ws}/conversations/{source['conversation']}")
        assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
        assert api.ok("GET", f"/api/v1/workspaces/{ws}/analytics/usage")["totals"] == source["usage"]
        assert api.ok("GET", f"{docs_path(api, bot, ws)}/{source['doc']}")["status"] == "indexed"
    finally:
        api.close()
        live.stop()


def test_the_copied_vectors_answer_a_chat(source, target):
    data_dir = source["settings"].data_dir
    assert run_cli("copy-db", "--to", target, "--data-dir", str(data_dir)) == 0
    live = start_server(make_settings(data_dir, database_url=target))
    api = Api(live.url)
    try:
        api.login("owner@example.com")
        ws, bot = source["ws"], source["bot"]
        done = api.chat(ws, bot, "Is parking free?")[-1]  # the provider key opened; vectors searched
        assert done.get("done") is True, done
        assert [s["document_id"] for s in done["sources"]] == [source["doc"]]
        listed = api.ok("GET", f"/api/v1/workspaces/{ws}/conversations")
        assert len(listed["items"]) == 2
        messages = api.ok("GET", f"/api/v1/workspaces/{ws}/conversations/{done['conversation_id']}")["messages"]
        assert messages[-1]["role"] == "assistant" and messages[-1]["sources"] == done["sources"]
    finally:
        api.close()
        live.stop()


def test_a_target_that_holds_an_instance_is_refused(source, capsys):
    url = fresh_database()
    try:
        live = start_server(make_settings(source["settings"].data_dir.parent / "other", database_url=url))
        api = Api(live.url)
        api.setup_owner("someone@example.com")
        api.close()
        live.stop()
        assert run_cli("copy-db", "--to", url, "--data-dir", str(source["settings"].data_dir)) == 1
        assert "already holds an instance (1 user(s), 1 workspace(s))" in capsys.readouterr().err
        pg = connect_postgres(url)
        try:
            assert pg.execute("SELECT email FROM users").fetchall() == [("someone@example.com",)]
            assert pg.execute("SELECT count(*) FROM chatbots").fetchone()[0] == 0
        finally:
            pg.close()
    finally:
        drop_database(url)


def test_a_failure_half_way_leaves_nothing_behind(source, target, capsys):
    # A damaged source: a chunk whose document is gone (SQLite with its foreign keys off allowed
    # it). Users, workspaces and documents are copied before chunks; the chunk then fails.
    raw = sqlean.connect(str(source["settings"].db_path), isolation_level=None)
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, text)"
                " VALUES (999999, 'orphan', ?, ?, 'no-such-document', 0, 'lost')", (source["ws"], source["bot"]))
    raw.close()
    assert run_cli("copy-db", "--to", target, "--data-dir", str(source["settings"].data_dir)) == 1
    err = capsys.readouterr().err
    assert "copying chunks failed" in err and "foreign key" in err
    pg = connect_postgres(target)
    try:
        assert counts(pg, TABLES) == dict.fromkeys(TABLES, 0)
    finally:
        pg.close()
    # Once the source is repaired, the same target takes the copy.
    repair = connect_sync(source["settings"].db_path)  # with sqlite-vec: the delete trigger needs it
    repair.execute("DELETE FROM chunks WHERE id = 'orphan'")
    repair.close()
    assert run_cli("copy-db", "--to", target, "--data-dir", str(source["settings"].data_dir)) == 0


def test_text_holding_a_nul_character_is_refused_with_the_table_named(source, target, capsys):
    # SQLite stores U+0000 inside text; Postgres's text type cannot hold it.
    raw = sqlean.connect(str(source["settings"].db_path), isolation_level=None)
    raw.execute("UPDATE workspaces SET name = ? WHERE id = ?", ("Acme\x00Corp", source["ws"]))
    raw.close()
    assert run_cli("copy-db", "--to", target, "--data-dir", str(source["settings"].data_dir)) == 1
    err = capsys.readouterr().err
    assert "copying workspaces failed" in err and "NUL character" in err and "nothing was copied" in err
    pg = connect_postgres(target)
    try:
        assert counts(pg, TABLES) == dict.fromkeys(TABLES, 0)
    finally:
        pg.close()


def test_schema_versions_must_match(source, target, capsys):
    raw = sqlean.connect(str(source["settings"].db_path), isolation_level=None)
    newest = raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    raw.execute("DELETE FROM schema_version WHERE version = ?", (newest,))
    previous = raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]  # numbers may skip
    raw.close()
    assert run_cli("copy-db", "--to", target, "--data-dir", str(source["settings"].data_dir)) == 1
    message = f"schema versions differ: the SQLite database is at {previous}, Postgres at {newest}"
    assert message in capsys.readouterr().err


def test_copy_db_is_refused_while_the_server_runs_or_from_postgres(tmp_path, capsys):
    target = fresh_database(migrated=False)
    live = start_server(make_settings(tmp_path / "data", database_url=""))
    try:
        assert run_cli("copy-db", "--to", target, "--data-dir", str(tmp_path / "data")) == 1
        assert "is running" in capsys.readouterr().err
    finally:
        live.stop()
    settings = make_settings(tmp_path / "data", database_url=target)
    assert run_cli("copy-db", "--to", target, "--data-dir", str(tmp_path / "data"),
                   "--database-url", settings.database_url) == 2
    assert "without MODELPILOT_DATABASE_URL" in capsys.readouterr().err
    pg = connect_sync_for(settings)
    try:  # nothing was even migrated
        assert pg.execute("SELECT to_regclass('users')").fetchone()[0] is None
    finally:
        pg.close()
        drop_database(target)


def test_backup_and_restore_on_postgres_point_to_postgres_tools(tmp_path, target, capsys):
    flags = ("--data-dir", str(tmp_path / "data"), "--database-url", target)
    assert run_cli("backup", str(tmp_path / "b"), *flags) == 2
    assert "pg_dump" in capsys.readouterr().err and not Path(tmp_path / "b").exists()
    assert run_cli("restore", str(tmp_path / "b.db"), *flags) == 2
    assert "point-in-time recovery" in capsys.readouterr().err


def test_scheduled_backups_are_registered_on_sqlite_only(tmp_path):
    class Recorder:
        def __init__(self) -> None:
            self.jobs: list[str] = []

        def add_interval_job(self, job_id, func, seconds, **options) -> None:
            self.jobs.append(job_id)

    registered = {}
    for url in ("", "postgresql://mp@db.invalid/modelpilot"):
        scheduler = Recorder()
        settings = make_settings(tmp_path / "data", database_url=url, backup_interval_hours=24)
        register_ops_jobs(scheduler, None, settings)
        registered[settings.backend] = scheduler.jobs
    assert registered == {"sqlite": ["ops.backup", "ops.retention"], "postgres": ["ops.retention"]}


def test_both_migration_histories_have_the_same_versions():
    """copy-db refuses databases at different versions, so a migration that only one backend needs
    still gets its number on the other (a no-op there): otherwise every fresh instance fails to copy."""
    from modelpilot.core.migrate import available_migrations
    from modelpilot.paths import package_resource

    folder = package_resource("migrations")
    sqlite = {m.version for m in available_migrations(folder) if m.version >= 8}
    postgres = {m.version for m in available_migrations(folder / "postgres")}
    assert sqlite == postgres
