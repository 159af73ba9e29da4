"""Migration 0010 on a SQLite database that already holds members and conversations: the rebuilt
memberships, invitations and messages tables keep every row, full-text search still finds the old
messages, and the widened checks take the new roles. (Postgres changes its checks in place.)"""

from __future__ import annotations

import shutil

import pytest

from modelpilot.core.db import IntegrityError, connect_sync
from modelpilot.core.migrate import apply_migrations
from modelpilot.paths import package_resource

NOW = "2026-01-01T00:00:00.000Z"


def _seed(conn) -> None:
    conn.execute("INSERT INTO users (id, email, password_hash, name, created_at)"
                 " VALUES ('u1', 'a@example.com', 'x', 'Ann', ?)", (NOW,))
    conn.execute("INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('w1', 'W', ?, ?)", (NOW, NOW))
    conn.execute("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ('w1', 'u1', 'admin', ?)",
                 (NOW,))
    conn.execute("INSERT INTO chatbots (id, workspace_id, name, model, created_at, updated_at)"
                 " VALUES ('b1', 'w1', 'Bot', 'builtin/extractive', ?, ?)", (NOW, NOW))
    conn.execute("INSERT INTO conversations (id, workspace_id, chatbot_id, session_id, channel, started_at,"
                 " last_message_at, message_count) VALUES ('c1', 'w1', 'b1', 's1', 'widget', ?, ?, 2)", (NOW, NOW))
    for number, (role, text) in enumerate((("user", "where is the lighthouse"), ("assistant", "on the pier"))):
        conn.execute("INSERT INTO messages (id, workspace_id, conversation_id, chatbot_id, role, content, feedback,"
                     " created_at) VALUES (?, 'w1', 'c1', 'b1', ?, ?, ?, ?)",
                     (f"m{number}", role, text, 1 if role == "assistant" else None, NOW))


def test_existing_rows_survive_and_new_roles_fit(tmp_path) -> None:
    old = tmp_path / "up-to-9"
    old.mkdir()
    for path in sorted(package_resource("migrations").glob("*.sql")):
        if int(path.name[:4]) <= 9:
            shutil.copy(path, old / path.name)
    db_path = tmp_path / "data" / "modelpilot.db"
    apply_migrations(db_path, old)
    conn = connect_sync(db_path)
    try:
        _seed(conn)
    finally:
        conn.close()
    assert apply_migrations(db_path)[0] == "0010_handoff"  # and any later ones
    conn = connect_sync(db_path)
    try:
        rows = conn.execute("SELECT id, role, content, feedback FROM messages ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [("m0", "user", "where is the lighthouse", None),
                                            ("m1", "assistant", "on the pier", 1)]
        found = conn.execute("SELECT m.id FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
                             " WHERE messages_fts MATCH 'lighthouse'").fetchall()
        assert [r[0] for r in found] == ["m0"]
        assert tuple(conn.execute("SELECT role, notify_waiting FROM memberships").fetchone()) == ("admin", 0)
        assert conn.execute("SELECT status FROM conversations").fetchone()[0] == "bot"
        conn.execute("UPDATE memberships SET role = 'agent'")
        conn.execute("INSERT INTO messages (id, workspace_id, conversation_id, chatbot_id, role, content, author_name,"
                     " created_at) VALUES ('m2', 'w1', 'c1', 'b1', 'operator', 'the lighthouse is closed', 'Ann', ?)",
                     (NOW,))
        found = conn.execute("SELECT m.id FROM messages_fts f JOIN messages m ON m.rowid = f.rowid"
                             " WHERE messages_fts MATCH 'lighthouse' ORDER BY m.id").fetchall()
        assert [r[0] for r in found] == ["m0", "m2"]
        with pytest.raises(IntegrityError):
            conn.execute("UPDATE memberships SET role = 'owner'")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
