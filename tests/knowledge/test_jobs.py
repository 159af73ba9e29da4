"""The durable job queue: survives restarts, delete and reindex at any moment, nothing stuck."""

from __future__ import annotations

import time
from dataclasses import replace

from modelpilot.core.database import connect_sync_for
from tests.knowledge.conftest import add_text, count_rows, docs_path, create_bot, search, wait_done
from tests.pg_support import BACKEND
from tests.support import Api, eventually, start_server

LONG = " ".join(f"Paragraph {i}: the harbour crane number {i} lifts containers of type {i % 13} at night."
                for i in range(250))


def wait_processing(api, bot, doc_id: str) -> dict:
    def still_going() -> dict:
        doc = api.ok("GET", f"{docs_path(api, bot)}/{doc_id}")
        assert doc["status"] in ("queued", "processing"), doc
        return doc

    return eventually(still_going, lambda doc: doc["status"] == "processing" and doc["progress"] > 0.1,
                      timeout=60, what="visible progress")


def test_progress_is_visible_and_delete_mid_job_leaves_nothing(owner, bot, server) -> None:
    doc = add_text(owner, bot, "Harbour", LONG)
    running = wait_processing(owner, bot, doc["id"])
    assert 0 < running["progress"] < 1
    owner.ok("DELETE", f"{docs_path(owner, bot)}/{doc['id']}", 204)
    after = wait_done(owner, bot, add_text(owner, bot, "Next", "The canteen serves soup on Fridays.")["id"])
    assert after["status"] == "indexed"  # the worker moved on
    db = server.settings
    assert count_rows(db, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc["id"],)) == 0
    assert count_rows(db, "SELECT count(*) FROM chunk_vectors") == after["chunk_count"]
    assert count_rows(db, "SELECT count(*) FROM jobs") == 0


def test_reindex_mid_job_gives_one_clean_index(owner, bot, server) -> None:
    doc = add_text(owner, bot, "Harbour", LONG)
    wait_processing(owner, bot, doc["id"])
    owner.ok("POST", f"{docs_path(owner, bot)}/{doc['id']}/reindex", 202)
    done = wait_done(owner, bot, doc["id"])
    assert done["status"] == "indexed"
    db = server.settings
    assert count_rows(db, "SELECT count(*) FROM chunks") == done["chunk_count"]
    assert count_rows(db, "SELECT count(*) FROM chunk_vectors") == done["chunk_count"]
    assert count_rows(db, "SELECT count(DISTINCT ordinal) FROM chunks") == done["chunk_count"]


def test_unfinished_jobs_resume_after_a_crash(server_factory) -> None:
    live = server_factory()
    api = Api(live.url)
    api.setup_owner()
    bot = create_bot(api)
    doc = wait_done(api, bot, add_text(api, bot, "Ferry", "The ferry to the island leaves at seven.")["id"])
    orphan = wait_done(api, bot, add_text(api, bot, "Bus", "The night bus stops at the harbour gate.")["id"])
    live.stop()
    # As if the process died mid-way: document and job left 'processing', half-written.
    conn = connect_sync_for(live.settings)
    conn.execute("UPDATE documents SET status = 'processing', progress = 0.4 WHERE id = ?", (doc["id"],))
    conn.execute("INSERT INTO jobs (id, workspace_id, kind, ref_id, payload, status, attempts, run_after, created_at,"
                 " updated_at) VALUES ('job1', ?, 'knowledge.ingest', ?, '{\"generation\": 1, \"force\": true}',"
                 " 'processing', 1, '2000-01-01', '2000-01-01', '2000-01-01')", (api.ws, doc["id"]))
    # And one left 'processing' whose job row is gone altogether.
    conn.execute("UPDATE documents SET status = 'processing' WHERE id = ?", (orphan["id"],))
    conn.close()
    again = start_server(replace(live.settings, port=0))
    try:
        api2 = Api(again.url)
        api2.login("owner@example.com")
        done = wait_done(api2, bot, doc["id"])
        assert done["status"] == "indexed" and done["chunk_count"] == doc["chunk_count"]
        assert search(api2, bot, "when does the ferry leave")[0]["document_id"] == doc["id"]
        assert wait_done(api2, bot, orphan["id"])["status"] == "indexed"
        total = doc["chunk_count"] + orphan["chunk_count"]
        assert count_rows(again.settings, "SELECT count(*) FROM chunk_vectors") == total
        api2.close()
    finally:
        again.stop()
        api.close()


def test_scheduler_runs_interval_jobs_for_other_domains(server) -> None:
    scheduler = server.app.state["scheduler"]
    ran = []

    async def tick() -> None:
        ran.append(time.monotonic())

    scheduler.add_interval_job("test.tick", tick, 0.2)
    try:
        eventually(lambda: len(ran), lambda runs: runs >= 2, timeout=10, what="two runs of the interval job")
    finally:
        scheduler.remove_job("test.tick")
    assert "knowledge.refresh" in scheduler.job_ids()


def test_workspace_delete_leaves_no_vectors(server_factory) -> None:
    live = server_factory(open_signup=True)
    a, b = Api(live.url), Api(live.url)
    a.setup_owner()
    b.signup("b@example.com", "B")
    bot_a = create_bot(a)
    bot_b = create_bot(b)
    doc_a = wait_done(a, bot_a, add_text(a, bot_a, "A", "Workspace A keeps goats on the hill.")["id"])
    doc_b = wait_done(b, bot_b, add_text(b, bot_b, "B", "Workspace B keeps bees in the orchard.")["id"])
    ws_a = a.ws
    a.ok("DELETE", f"/api/v1/workspaces/{a.ws}", 204)
    db = live.settings
    assert count_rows(db, "SELECT count(*) FROM chunk_vectors") == doc_b["chunk_count"]
    assert count_rows(db, "SELECT count(*) FROM chunks WHERE document_id = ?", (doc_a["id"],)) == 0
    assert count_rows(db, "SELECT count(*) FROM documents WHERE workspace_id = ?", (ws_a,)) == 0
    fulltext_rows = {"sqlite": "SELECT count(*) FROM chunk_fts",  # Postgres: the tsvector in each chunk row
                     "postgres": "SELECT count(*) FROM chunks WHERE length(fts) > 0"}[BACKEND]
    assert count_rows(db, fulltext_rows) == doc_b["chunk_count"]
    assert search(b, bot_b, "who keeps bees")[0]["document_id"] == doc_b["id"]
    a.close()
    b.close()


def test_a_different_embedding_model_reembeds_everything(server_factory) -> None:
    live = server_factory()
    api = Api(live.url)
    api.setup_owner()
    bot = create_bot(api)
    doc = wait_done(api, bot, add_text(api, bot, "Tides", "High tide comes twice a day at the old pier.")["id"])
    live.stop()
    conn = connect_sync_for(live.settings)
    conn.execute("UPDATE embedding_index SET model = 'someone/else-model'")
    conn.execute("UPDATE documents SET embed_model = 'someone/else-model'")
    conn.close()
    again = start_server(replace(live.settings, port=0))
    try:
        api2 = Api(again.url)
        api2.login("owner@example.com")
        eventually(lambda: api2.ok("GET", f"{docs_path(api2, bot)}/{doc['id']}"),
                   lambda current: current["embed_model"] != "someone/else-model", timeout=60, interval=0.1,
                   what="re-embedding with the new model")
        done = wait_done(api2, bot, doc["id"])
        assert done["status"] == "indexed" and done["embed_model"] != "someone/else-model"
        assert count_rows(again.settings, "SELECT model FROM embedding_index") != "someone/else-model"
        assert count_rows(again.settings, "SELECT count(*) FROM chunk_vectors") == done["chunk_count"]
        api2.close()
    finally:
        again.stop()
        api.close()
