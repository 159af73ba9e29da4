"""Deleting a visitor's conversation on request, and per-workspace retention of conversations."""

from __future__ import annotations

import asyncio
import time

from modelpilot.core.database import connect_sync_for, open_database
from modelpilot.ops.jobs import apply_retention
from tests.pg_support import BACKEND
from tests.support import Api


# FTS5's rows on SQLite; on Postgres the search vector lives in the message row itself.
FULLTEXT_ROWS = {"sqlite": "SELECT COUNT(*) FROM messages_fts WHERE rowid IN ({marks})",
                 "postgres": "SELECT COUNT(*) FROM messages WHERE rowid IN ({marks}) AND length(content_tsv) > 0"}[BACKEND]


def message_rows(settings, conversation_id: str) -> tuple[int, int]:
    """(messages, full-text rows) of a conversation."""
    conn = connect_sync_for(settings, readonly=True)
    try:
        messages = conn.execute("SELECT rowid FROM messages WHERE conversation_id = ?", (conversation_id,)).fetchall()
        rowids = [r[0] for r in messages]
        marks = ",".join("?" * len(rowids)) or "NULL"
        fts = conn.execute(FULLTEXT_ROWS.format(marks=marks), rowids).fetchone()[0]
        return len(messages), fts
    finally:
        conn.close()


def start_conversation(owner: Api, bot_id: str, session_id: str, text: str = "hello there") -> str:
    done = owner.chat(owner.ws, bot_id, text, session_id=session_id)[-1]
    assert done.get("done"), done
    return done["conversation_id"]


def test_an_admin_deletes_a_visitors_conversation(server, owner, client_factory) -> None:
    bot = owner.create_bot(owner.ws)
    doomed = start_conversation(owner, bot["id"], "visitor-forget-me")
    kept = start_conversation(owner, bot["id"], "visitor-keep-me")
    path = f"/api/v1/workspaces/{owner.ws}/conversations"
    assert message_rows(server.settings, doomed)[0] == 2

    editor = client_factory()
    owner.invite_and_join(editor, "editor@example.com", "editor")
    assert editor.delete(f"{path}/{doomed}").status_code == 403

    owner.ok("DELETE", f"{path}/{doomed}", status=204)
    assert owner.get(f"{path}/{doomed}").status_code == 404
    assert message_rows(server.settings, doomed) == (0, 0)
    assert owner.get(f"{path}/{kept}").status_code == 200
    assert owner.delete(f"{path}/{doomed}").status_code == 404
    assert owner.delete(f"{path}/no-such-conversation").status_code == 404
    entries = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/audit-log")
    [entry] = [e for e in entries if e["action"] == "conversation.deleted"]
    assert entry["target_id"] == doomed and entry["actor_user_id"] == owner.user["id"]


def run_retention(settings, now: float) -> dict:
    async def run() -> dict:
        db = open_database(settings, readers=1)
        await db.open()
        try:
            return await apply_retention(db, now=now)
        finally:
            await db.close()

    return asyncio.run(run())


def test_retention_deletes_only_old_conversations_of_workspaces_that_ask(server, owner) -> None:
    strict = owner.ws
    owner.ok("PATCH", f"/api/v1/workspaces/{strict}", json={"settings": {"retention_days": 30}})
    lenient = owner.ok("POST", "/api/v1/workspaces", json={"name": "Keeps everything"})["id"]
    strict_bot = owner.create_bot(strict)
    lenient_bot = owner.create_bot(lenient)
    old = start_conversation(owner, strict_bot["id"], "old-visitor")
    done = owner.chat(lenient, lenient_bot["id"], "hello", session_id="lenient-visitor")[-1]
    lenient_conversation = done["conversation_id"]

    # 31 days later: the strict workspace's conversation is past its 30 days.
    deleted = run_retention(server.settings, now=time.time() + 31 * 86400)
    assert deleted == {strict: 1}
    assert owner.get(f"/api/v1/workspaces/{strict}/conversations/{old}").status_code == 404
    assert message_rows(server.settings, old) == (0, 0)
    assert owner.get(f"/api/v1/workspaces/{lenient}/conversations/{lenient_conversation}").status_code == 200
    entries = owner.ok("GET", f"/api/v1/workspaces/{strict}/audit-log")
    assert any(e["action"] == "conversations.expired" and e["details"]["deleted"] == 1 for e in entries)

    recent = start_conversation(owner, strict_bot["id"], "new-visitor")
    assert run_retention(server.settings, now=time.time() + 29 * 86400) == {}
    assert owner.get(f"/api/v1/workspaces/{strict}/conversations/{recent}").status_code == 200


def test_housekeeping_jobs_are_scheduled(server) -> None:
    expected = {"ops.retention"} | ({"ops.backup"} if BACKEND == "sqlite" else set())  # Postgres: pg_dump/PITR
    assert expected <= set(server.app.state["scheduler"].job_ids())
