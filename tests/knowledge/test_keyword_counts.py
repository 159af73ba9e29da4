"""Keyword search leaves out the words common in the bot (rag/store.py COMMON_TERM_CHUNKS), on
both backends; on Postgres the per-bot word counts it reads (chunk_terms, migration 0012) stay
exact through inserts, deletes and foreign-key cascades."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from modelpilot.core.database import connect_sync_for, open_database
from modelpilot.core.db import execute
from modelpilot.core.migrate import migrate_database
from modelpilot.rag import store
from tests.pg_support import BACKEND
from tests.support import make_settings

TEXTS = {
    "bot-a": ["The lantern hangs by the door.", "A lantern for the garden path.", "Lantern oil, refilled weekly.",
              "Quartz lantern, the brightest one.", "Nothing to see here."],
    "bot-b": ["A lantern by the harbor wall.", "Ropes and nets.", "The café by the pier opens at nine."],
}


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "COMMON_TERM_CHUNKS", 3)  # "lantern" is common in bot-a (4 chunks), rare in bot-b
    made = make_settings(tmp_path)
    migrate_database(made)
    asyncio.run(_fill(made))
    return made


async def _fill(settings) -> None:
    db = open_database(settings, readers=1)
    await db.open()
    try:
        async with db.write() as conn:
            await execute(conn, "INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('ws', 'W', 't', 't')")
            for bot, texts in TEXTS.items():
                await execute(conn, "INSERT INTO chatbots (id, workspace_id, name, slug, model, created_at, updated_at)"
                                    " VALUES (?, 'ws', ?, ?, 'builtin/extractive', 't', 't')", (bot, bot, bot))
                for n, text in enumerate(texts):
                    doc = f"{bot}-doc{n}"
                    await execute(conn, "INSERT INTO documents (id, workspace_id, chatbot_id, source_type, title,"
                                        " created_at, updated_at) VALUES (?, 'ws', ?, 'text', 'T', 't', 't')", (doc, bot))
                    vectors = np.eye(1, 384, n, dtype=np.float32)
                    await store.insert_chunks(conn, "ws", bot, doc, [store.NewChunk(text=text, title="")], vectors)
    finally:
        await db.close()


def keyword_hits(settings, bot: str, text: str) -> list[str]:
    async def run():
        db = open_database(settings, readers=1)
        await db.open()
        try:
            async with db.read() as conn:
                hits = await store.keyword_search(conn, bot, text, 10)
                rows = await store.chunks_by_rowid(conn, "ws", [rowid for rowid, _ in hits])
                return [rows[rowid]["text"] for rowid, _ in hits]
        finally:
            await db.close()
    return asyncio.run(run())


def test_a_word_common_in_the_bot_is_left_out_when_a_rarer_one_is_asked_for(settings):
    assert keyword_hits(settings, "bot-a", "lantern quartz") == ["Quartz lantern, the brightest one."]


def test_a_question_of_common_words_only_still_finds_them_all(settings):
    assert len(keyword_hits(settings, "bot-a", "lantern")) == 4


def test_how_common_a_word_is_is_counted_per_bot(settings):
    # Four of bot-a's chunks say "lantern"; in bot-b it is rare, so it still counts there.
    assert keyword_hits(settings, "bot-b", "lantern quartz") == ["A lantern by the harbor wall."]


def test_keyword_search_ignores_accents_both_ways(settings):
    for query in ("cafe", "CAFÉ", "café pier"):
        assert keyword_hits(settings, "bot-b", query) == ["The café by the pier opens at nine."], query


def _terms_and_recount(settings) -> tuple[set, set]:
    conn = connect_sync_for(settings)
    try:
        kept = {tuple(row) for row in conn.execute("SELECT chatbot_id, lexeme, chunks FROM chunk_terms")}
        recount = {tuple(row) for row in conn.execute(
            "SELECT chatbot_id, lexeme, count(*) FROM chunks, unnest(tsvector_to_array(fts)) AS t(lexeme)"
            " GROUP BY chatbot_id, lexeme")}
        return kept, recount
    finally:
        conn.close()


@pytest.mark.skipif(BACKEND != "postgres", reason="chunk_terms is Postgres's; SQLite counts from FTS5's postings")
def test_postgres_word_counts_follow_inserts_deletes_and_cascades(settings):
    kept, recount = _terms_and_recount(settings)
    assert ("bot-a", "lantern", 4) in kept and ("bot-b", "lantern", 1) in kept
    assert kept == recount
    conn = connect_sync_for(settings)
    try:
        conn.execute("DELETE FROM documents WHERE id = 'bot-a-doc3'")    # cascades to its chunk
        conn.execute("DELETE FROM chatbots WHERE id = 'bot-b'")          # and a bot's documents
        conn.execute("DELETE FROM chunks WHERE chatbot_id = 'bot-b'")    # (chunks carry no bot key)
    finally:
        conn.close()
    kept, recount = _terms_and_recount(settings)
    assert ("bot-a", "lantern", 3) in kept and ("bot-a", "quartz", 1) not in kept
    assert not any(bot == "bot-b" for bot, _, _ in kept)
    assert kept == recount
