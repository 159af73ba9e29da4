"""Chatbots: CRUD, defaults, validation naming the field, roles, and delete removing everything."""

from __future__ import annotations

import pytest

from modelpilot.core.database import connect_sync_for
from tests.pg_support import BACKEND
from tests.support import Api


def bots_path(api: Api, bot_id: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}/chatbots" + (f"/{bot_id}" if bot_id else "")


def test_create_read_update_list(owner):
    bot = owner.create_bot(owner.ws, name="Support", temperature=0.7, accent_color="#AABBCC",
                           starter_questions=["Hours?", "Prices?"], allowed_origins=["https://Shop.Example.com/"],
                           published=True, top_k=8, score_threshold=0.25, position="bottom-left")
    assert bot["model"] == "builtin/extractive"  # no provider configured yet
    assert bot["accent_color"] == "#aabbcc" and bot["allowed_origins"] == ["https://shop.example.com"]
    assert bot["published"] is True and bot["starter_questions"] == ["Hours?", "Prices?"]
    assert "workspace_id" not in bot
    assert owner.ok("GET", bots_path(owner, bot["id"])) == bot
    changed = owner.ok("PATCH", bots_path(owner, bot["id"]), json={"name": "Help desk", "max_tokens": 300})
    assert changed["name"] == "Help desk" and changed["max_tokens"] == 300 and changed["temperature"] == 0.7
    assert changed["updated_at"] >= bot["updated_at"]
    assert [b["id"] for b in owner.ok("GET", bots_path(owner))] == [bot["id"]]


def test_new_bots_use_the_configured_providers_model(owner, fake_llm):
    owner.add_provider(owner.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    assert owner.create_bot(owner.ws)["model"] == "openai/gpt-4o-mini"
    assert owner.create_bot(owner.ws, model="builtin/extractive")["model"] == "builtin/extractive"


BAD_INPUT = [
    ({"temperature": 3}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"accent_color": "red"}, "accent_color"),
    ({"starter_questions": [f"q{i}" for i in range(7)]}, "starter_questions"),
    ({"allowed_origins": ["not a url"]}, "allowed_origins"),
    ({"allowed_origins": ["https://example.com/path"]}, "allowed_origins"),
    ({"allowed_origins": ["javascript:alert(1)"]}, "allowed_origins"),
    ({"position": "top-left"}, "position"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 100000}, "max_tokens"),
    ({"top_k": 0}, "top_k"),
    ({"score_threshold": 1.5}, "score_threshold"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"model": "has spaces"}, "model"),
    ({"colour": "#ffffff"}, "colour"),
    ({"published": "yes"}, "published"),
]


@pytest.mark.parametrize("fields, field", BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field_and_nothing_changes(owner, fields, field):
    response = owner.post(bots_path(owner), json={"name": "Bot", **fields})
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]
    assert owner.ok("GET", bots_path(owner)) == []
    bot = owner.create_bot(owner.ws, name="Keeper")
    patched = owner.patch(bots_path(owner, bot["id"]), json=fields)
    assert patched.status_code == 400, patched.text
    assert field in patched.json()["error"]["message"]
    assert owner.ok("GET", bots_path(owner, bot["id"])) == bot


def test_viewers_read_but_cannot_write(owner, client_factory):
    bot = owner.create_bot(owner.ws)
    viewer = client_factory()
    owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    assert viewer.ok("GET", bots_path(viewer, bot["id"]))["id"] == bot["id"]
    assert viewer.post(bots_path(viewer), json={"name": "Mine"}).status_code == 403
    assert viewer.patch(bots_path(viewer, bot["id"]), json={"name": "Mine"}).status_code == 403
    assert viewer.delete(bots_path(viewer, bot["id"])).status_code == 403
    editor = client_factory()
    owner.invite_and_join(editor, "editor@example.com", "editor")
    assert editor.ok("PATCH", bots_path(editor, bot["id"]), json={"greeting": "Hello!"})["greeting"] == "Hello!"


# The message full-text index: an FTS5 table on SQLite, a generated tsvector column on Postgres.
MESSAGE_TEXT_HITS = {
    "sqlite": "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'anything'",
    "postgres": "SELECT COUNT(*) FROM messages WHERE content_tsv @@ plainto_tsquery('modelpilot_simple', 'anything')",
}


def test_deleting_a_bot_removes_its_conversations_but_keeps_usage(owner, server):
    bot = owner.create_bot(owner.ws)
    done = owner.chat(owner.ws, bot["id"], "anything?")[-1]
    owner.ok("DELETE", bots_path(owner, bot["id"]), 204)
    assert owner.get(bots_path(owner, bot["id"])).status_code == 404
    assert owner.delete(bots_path(owner, bot["id"])).status_code == 404
    assert owner.get(f"/api/v1/workspaces/{owner.ws}/conversations/{done['conversation_id']}").status_code == 404
    conn = connect_sync_for(server.settings, readonly=True)
    try:
        counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("conversations", "messages", "usage_events")]
        fts_hits = conn.execute(MESSAGE_TEXT_HITS[BACKEND]).fetchone()[0]
    finally:
        conn.close()
    assert counts == [0, 0, 1] and fts_hits == 0
