"""SQLite's in-memory vector matrix (rag/vector_cache.py): the same hits as sqlite-vec's scan, and
never a stale one: every chunk written or deleted, by any path, is seen by the next search.
On the real database file with the migrations; SQLite only (Postgres searches its HNSW index)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import numpy as np
import pytest

from modelpilot.core.database import open_database
from modelpilot.core.db import execute
from modelpilot.core.migrate import migrate_database
from modelpilot.rag import retrieve, store
from modelpilot.rag.vector_cache import CACHE
from tests.support import make_settings

DIM = 384
NOW = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def settings(tmp_path):
    made = make_settings(tmp_path)
    if made.database_url:
        pytest.skip("the vector matrix is SQLite's; Postgres searches its HNSW index")
    migrate_database(made)
    CACHE.clear()
    return made


def unit_rows(rng, n: int) -> np.ndarray:
    centres = rng.standard_normal((20, DIM)).astype(np.float32)
    rows = centres[rng.integers(0, 20, n)] + rng.standard_normal((n, DIM)).astype(np.float32) * 0.5
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


async def add_bot(conn, ws: str, bot: str) -> None:
    await execute(conn, "INSERT INTO workspaces (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT DO NOTHING", (ws, ws, NOW, NOW))
    await execute(conn, "INSERT INTO chatbots (id, workspace_id, name, slug, model, created_at, updated_at)"
                        " VALUES (?, ?, 'Bot', ?, 'builtin/extractive', ?, ?)", (bot, ws, bot, NOW, NOW))


async def add_document(conn, ws: str, bot: str, doc: str, vectors: np.ndarray) -> None:
    await execute(conn, "INSERT INTO documents (id, workspace_id, chatbot_id, source_type, title, created_at,"
                        " updated_at) VALUES (?, ?, ?, 'text', ?, ?, ?)", (doc, ws, bot, doc, NOW, NOW))
    chunks = [store.NewChunk(text=f"{doc} part {i}", title=doc) for i in range(len(vectors))]
    await store.insert_chunks(conn, ws, bot, doc, chunks, vectors)


@asynccontextmanager
async def bot_with(settings, vectors: np.ndarray):
    """An open database with bot b1 of workspace ws1, its document d1 holding these vectors."""
    db = open_database(settings, readers=2)
    await db.open()
    try:
        async with db.write() as conn:
            await add_bot(conn, "ws1", "b1")
            await add_document(conn, "ws1", "b1", "d1", vectors)
        yield db
    finally:
        await db.close()


async def knn(db, ws: str, bot: str, query: np.ndarray, k: int = 20):
    async with db.read() as conn:
        return await store.vector_knn_cached(conn, ws, bot, query, k, retrieve._cache_key(db, bot))


async def plain_knn(db, bot: str, query: np.ndarray, k: int = 20):
    async with db.read() as conn:
        return await store.vector_knn(conn, bot, query, k)


async def until_matrix(db, ws: str, bot: str, query: np.ndarray):
    """Searches (each asks for a fresh matrix when it has none) until one answers from memory."""
    for _ in range(200):
        hits, matrix = await knn(db, ws, bot, query)
        if matrix is not None:
            return hits, matrix
        retrieve._read_matrix_later(db, ws, bot, retrieve._cache_key(db, bot))
        await asyncio.sleep(0.05)
    raise AssertionError("the bot's vectors never reached memory")


def test_the_matrix_finds_what_sqlite_vec_finds(settings):
    rng = np.random.default_rng(3)

    async def main():
        async with bot_with(settings, unit_rows(rng, 600)) as db:
            async with db.write() as conn:
                await add_bot(conn, "ws1", "other")
                await add_document(conn, "ws1", "other", "d2", unit_rows(rng, 300))
            queries = unit_rows(rng, 12)
            _, matrix = await until_matrix(db, "ws1", "b1", queries[0])
            assert len(matrix.rowids) == 600  # the bot's own vectors, not the other bot's
            for query in queries:
                cached, used = await knn(db, "ws1", "b1", query)
                exact = await plain_knn(db, "b1", query)
                assert used is matrix
                assert [r for r, _ in cached] == [r for r, _ in exact]
                assert np.allclose([s for _, s in cached], [s for _, s in exact], atol=1e-5)
                keyword_only = [r for r, _ in exact[:3]]
                async with db.read() as conn:
                    from_sql = await store.similarities(conn, keyword_only, query)
                assert matrix.similarities(keyword_only, query) == pytest.approx(from_sql, abs=1e-5)

    asyncio.run(main())


def test_every_change_is_seen_by_the_next_search(settings):
    rng = np.random.default_rng(5)

    async def main():
        async with bot_with(settings, unit_rows(rng, 400)) as db:
            query = unit_rows(rng, 1)[0]
            await until_matrix(db, "ws1", "b1", query)

            async with db.write() as conn:  # a new document whose chunk is the question itself
                await add_document(conn, "ws1", "b1", "d2", query[None, :])
            hits, _ = await knn(db, "ws1", "b1", query)
            new_rowid, similarity = hits[0]
            assert similarity == pytest.approx(1.0, abs=1e-5)
            hits, matrix = await until_matrix(db, "ws1", "b1", query)
            assert hits[0][0] == new_rowid and new_rowid in matrix.rowids

            async with db.write() as conn:  # deleting the document cascades to its chunks
                await execute(conn, "DELETE FROM documents WHERE workspace_id = 'ws1' AND id = 'd2'")
            hits, _ = await knn(db, "ws1", "b1", query)
            assert new_rowid not in [r for r, _ in hits]
            await until_matrix(db, "ws1", "b1", query)

            async with db.write() as conn:  # the whole bot goes
                await execute(conn, "DELETE FROM chatbots WHERE workspace_id = 'ws1' AND id = 'b1'")
            assert (await knn(db, "ws1", "b1", query))[0] == []

    asyncio.run(main())


def test_a_matrix_from_another_database_file_is_never_used(settings, tmp_path):
    """The generation is random, not counted: a restored or replaced file cannot match a matrix."""
    rng = np.random.default_rng(9)

    async def main():
        async with bot_with(settings, unit_rows(rng, 50)) as db:
            query = unit_rows(rng, 1)[0]
            _, matrix = await until_matrix(db, "ws1", "b1", query)
            async with db.read() as conn:
                generation = await conn._execute(lambda c: store._generation_sync(c, "ws1", "b1"), conn._conn)
            assert generation not in (0, 1) and matrix.generation == generation

    asyncio.run(main())


def test_a_bot_larger_than_the_budget_is_searched_with_sqlite_vec(settings):
    rng = np.random.default_rng(11)

    async def main():
        budget = CACHE.budget_bytes
        CACHE.budget_bytes = 100 * (DIM * 4 + 8)  # 100 vectors
        try:
            async with bot_with(settings, unit_rows(rng, 150)) as db:
                query = unit_rows(rng, 1)[0]
                for _ in range(10):
                    hits, matrix = await knn(db, "ws1", "b1", query)
                    retrieve._read_matrix_later(db, "ws1", "b1", retrieve._cache_key(db, "b1"))
                    await asyncio.sleep(0.05)
                    assert matrix is None and hits == await plain_knn(db, "b1", query)
                assert CACHE.held_bytes() == 0
        finally:
            CACHE.budget_bytes = budget

    asyncio.run(main())


def test_vectors_replaced_by_a_reembedding_are_seen_by_the_next_search(settings):
    """Re-embedding changes vectors in place (no chunk is inserted or deleted): the matrix read
    before it must not answer after it."""
    rng = np.random.default_rng(9)

    async def main():
        async with bot_with(settings, unit_rows(rng, 200)) as db:
            query = unit_rows(rng, 1)[0]
            await until_matrix(db, "ws1", "b1", query)
            async with db.read() as conn:
                rows = await store.chunks_not_embedded_with(conn, "ws1", "provider:m", 200)
            fresh = unit_rows(rng, len(rows))
            fresh[7] = query  # one chunk's new vector is the question itself
            async with db.write() as conn:
                assert await store.replace_vectors(conn, "ws1", "provider:m", rows, fresh) == len(rows)
            hits, matrix = await knn(db, "ws1", "b1", query)
            assert matrix is None  # the matrix in memory holds the old vectors: not used
            assert hits[0] == (rows[7]["rowid"], pytest.approx(1.0, abs=1e-5))
            hits, _ = await until_matrix(db, "ws1", "b1", query)
            assert hits[0][0] == rows[7]["rowid"]

    asyncio.run(main())
