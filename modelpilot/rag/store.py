"""The search index: chunk rows, their vectors and full text, on SQLite or Postgres.

SQLite: vectors in sqlite-vec vec0, full text in FTS5. All three share the chunk's integer rowid.
Deleting chunk rows deletes their vectors and FTS rows through a trigger (migration 0003), so
every path that removes chunks, including foreign-key cascades from a deleted bot or workspace,
leaves nothing behind in the virtual tables. Full-text tokens are stored prefixed with the bot's
tag (keyed_text) so keyword search stays inside one bot's postings, the way the vec0 partition
keeps vector search inside one bot.

Postgres: vectors in `chunk_vectors` (pgvector, HNSW cosine index, rows cascade-deleted with
their chunk), full text in the generated `chunks.fts` tsvector (text A, heading B, title C,
'modelpilot_english' config of migration 0012: unaccented, then stemmed like SQLite's porter
tokenizer with remove_diacritics). The statements that differ sit side
by side in `_SQL[...]` dicts or `_pg_*` functions below each public function; ranking and RRF
fusion (rag/retrieve.py) are the same code on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from modelpilot.core.db import Connection, dialect, execute, execute_many, fetch_all, fetch_one, fetch_value
from modelpilot.core.ids import new_id
from modelpilot.core.pg import HNSW_EF_SEARCH
from modelpilot.rag.vector_cache import CACHE, BotVectors

CHUNK_COLUMNS = "rowid, id, document_id, ordinal, kind, title, url, page, heading, text, answer, token_count"
# The same token boundaries as FTS5's unicode61 tokenizer: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that match almost every chunk only make the keyword side slower and noisier.
STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from how i if in into is it its me my no not of on or "
    "so that the their then there these this to was what when where which who why will with you your".split())


@dataclass
class NewChunk:
    text: str
    title: str
    kind: str = "text"
    url: str | None = None
    page: int | None = None
    heading: str | None = None
    answer: str | None = None
    token_count: int = 0
    embedding: str | None = None  # which embedding made its vector (None: the built-in model)


def bot_tag(chatbot_id: str) -> str:
    """A prefix naming the bot, glued to every full-text token of that bot."""
    return "b" + re.sub(r"[\W_]", "", chatbot_id).lower() + "x"


def keyed_text(text: str | None, chatbot_id: str) -> str:
    tag = bot_tag(chatbot_id)
    return " ".join(tag + word for word in _WORD.findall(text or ""))


def fts_row(rowid: int, text: str, title: str, heading: str | None, chatbot_id: str) -> tuple:
    return (rowid, keyed_text(text, chatbot_id), keyed_text(title, chatbot_id), keyed_text(heading, chatbot_id))


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form, `[x,y,...]`; nine significant digits give back the same float32."""
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(vector, dtype=np.float32).tolist()) + "]"


_PG_INSERT_CHUNKS = ("INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, kind, title, url,"
                     " page, heading, text, answer, token_count, embedding) SELECT * FROM unnest(?::bigint[],"
                     " ?::text[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::text[],"
                     " ?::integer[], ?::text[], ?::text[], ?::text[], ?::integer[], ?::text[])")


async def insert_chunks(conn: Connection, workspace_id: str, chatbot_id: str, document_id: str,
                        chunks: Sequence[NewChunk], vectors: np.ndarray, first_ordinal: int = 0) -> int:
    """Write chunks, vectors and (by trigger) FTS rows. Call inside a write transaction."""
    if not chunks:
        return 0
    base = await fetch_value(conn, "SELECT coalesce(max(rowid), 0) FROM chunks")
    rows = [(base + i + 1, new_id(), workspace_id, chatbot_id, document_id, first_ordinal + i, c.kind, c.title,
             c.url, c.page, c.heading, c.text, c.answer, c.token_count, c.embedding) for i, c in enumerate(chunks)]
    if dialect(conn) == "postgres":
        # One statement per batch, not per row: one round trip, and chunk_terms' statement-level
        # trigger (migration 0012) counts the whole batch at once. chunks.fts is generated.
        await execute(conn, _PG_INSERT_CHUNKS, [list(column) for column in zip(*rows)])
        await execute(conn, "INSERT INTO chunk_vectors (rowid, embedding, chatbot_id)"
                            " SELECT r, e::vector, ? FROM unnest(?::bigint[], ?::text[]) AS t(r, e)",
                      (chatbot_id, [row[0] for row in rows], [vector_text(vectors[i]) for i in range(len(chunks))]))
        return len(chunks)
    await execute_many(conn, "INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, kind,"
                             " title, url, page, heading, text, answer, token_count, embedding)"
                             " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    await execute_many(conn, "INSERT INTO chunk_fts (rowid, text, title, heading) VALUES (?, ?, ?, ?)",
                       [fts_row(base + i + 1, c.text, c.title, c.heading, chatbot_id) for i, c in enumerate(chunks)])
    await execute_many(conn, "INSERT INTO chunk_vectors (rowid, embedding, chatbot_id) VALUES (?, ?, ?)",
                       [(base + i + 1, vector_bytes(vectors[i]), chatbot_id) for i in range(len(chunks))])
    return len(chunks)


async def embedding_index(conn: Connection) -> dict | None:
    """The model and dimension the stored vectors were made with (None before the first start)."""
    return await fetch_one(conn, "SELECT model, dim FROM embedding_index WHERE id = 1")


async def set_embedding_index(conn: Connection, model: str, dim: int, now: str) -> None:
    await execute(conn, "INSERT INTO embedding_index (id, model, dim, updated_at) VALUES (1, ?, ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET model = excluded.model, dim = excluded.dim,"
                        " updated_at = excluded.updated_at", (model, dim, now))


async def delete_all_chunks(conn: Connection) -> int:
    """Every chunk of the instance (their trigger drops vectors and FTS rows): a model change."""
    return await execute(conn, "DELETE FROM chunks")


async def recreate_vector_table(conn: Connection, dim: int) -> None:
    """A model with another dimension needs a new vec0 table (call with no chunks left)."""
    if dialect(conn) == "postgres":
        await execute(conn, "DROP INDEX chunk_vectors_hnsw")
        await execute(conn, f"ALTER TABLE chunk_vectors ALTER COLUMN embedding TYPE vector({int(dim)})")
        await execute(conn, f"CREATE INDEX chunk_vectors_hnsw ON chunk_vectors USING hnsw"
                            f" ((embedding::halfvec({int(dim)})) halfvec_cosine_ops)")
        return
    await execute(conn, "DROP TABLE chunk_vectors")
    await execute(conn, f"CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[{int(dim)}]"
                        " distance_metric=cosine, chatbot_id text partition key, chunk_size=64)")
    await execute(conn, "CREATE INDEX chunk_vectors_chunks_partition ON chunk_vectors_chunks(partition00)")


async def delete_document_chunks(conn: Connection, workspace_id: str, document_id: str,
                                 url: str | None = None) -> int:
    if url is None:
        return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ? AND document_id = ?",
                             (workspace_id, document_id))
    return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ? AND document_id = ? AND url = ?",
                         (workspace_id, document_id, url))


async def delete_workspace_chunks(conn: Connection, workspace_id: str) -> int:
    return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ?", (workspace_id,))


async def vector_knn(conn: Connection, chatbot_id: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(rowid, cosine similarity) of the k nearest vectors of one bot's partition."""
    if dialect(conn) == "postgres":
        return await conn.call(_pg_knn, conn.sync, chatbot_id, vector_text(query), k)
    query_bytes = vector_bytes(query)
    return await conn._execute(lambda sync: _sqlite_knn_sync(sync, chatbot_id, query_bytes, k), conn._conn)


def _sqlite_knn_sync(sync, chatbot_id: str, query_bytes: bytes, k: int) -> list[tuple[int, float]]:
    rows = sync.execute("SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ?"
                        " AND chatbot_id = ?", (query_bytes, k, chatbot_id)).fetchall()
    return [(row[0], 1.0 - float(row[1])) for row in rows]


def _generation_sync(conn, workspace_id: str, chatbot_id: str) -> int:
    row = conn.execute("SELECT generation FROM vector_generations WHERE workspace_id = ? AND chatbot_id = ?",
                       (workspace_id, chatbot_id)).fetchone()
    return int(row[0]) if row is not None else 0


async def vector_knn_cached(conn: Connection, workspace_id: str, chatbot_id: str, query: np.ndarray, k: int,
                            cache_key: tuple[str, str]) -> tuple[list[tuple[int, float]], BotVectors | None]:
    """SQLite: vector_knn from the bot's matrix in memory (rag/vector_cache.py) when it was read
    at the bot's current generation, else sqlite-vec's scan; one hop to the reader either way.
    Also returns the matrix used (None: the caller may ask for a fresh one)."""
    query_bytes = vector_bytes(query)

    def knn(sync):
        found = CACHE.fresh(cache_key, _generation_sync(sync, workspace_id, chatbot_id))
        if found is not None:
            return found.nearest(query, k), found
        return _sqlite_knn_sync(sync, chatbot_id, query_bytes, k), None

    return await conn._execute(knn, conn._conn)  # aiosqlite's thread (core/db.run_on)


def bot_vectors_sync(conn, workspace_id: str, chatbot_id: str, max_rows: int) -> BotVectors | None:
    """The bot's vectors and the generation they are at, read in one transaction (a reader's
    connection); None if the bot has more than max_rows chunks."""
    conn.execute("BEGIN")
    try:
        rows = conn.execute("SELECT COUNT(*) FROM chunks WHERE workspace_id = ? AND chatbot_id = ?",
                            (workspace_id, chatbot_id)).fetchone()[0]
        if rows > max_rows:
            return None
        generation = _generation_sync(conn, workspace_id, chatbot_id)
        found = conn.execute("SELECT rowid, embedding FROM chunk_vectors WHERE chatbot_id = ?",
                             (chatbot_id,)).fetchall()
    finally:
        conn.execute("COMMIT")
    rowids = np.fromiter((row[0] for row in found), dtype=np.int64, count=len(found))
    matrix = np.frombuffer(b"".join(row[1] for row in found), dtype=np.float32).reshape(len(found), -1).copy()
    if len(found):
        # vec0's cosine distance divides by both lengths; unit rows make it one product
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return BotVectors(generation, rowids, matrix)


# pgvector: the HNSW index holds every bot's vectors, so a per-bot filter applied after the
# index scan could leave fewer than k rows. Every connection runs with iterative index scans
# and ef_search HNSW_EF_SEARCH (core/pg.py SESSION_SETTINGS), so a search is this one statement.
# The index is over half-precision copies (migration 0017): the ORDER BY repeats its expression,
# with the dimension of the query, so the planner uses it; the distance returned is the float one.
def _pg_knn_sql(dim: int) -> str:
    return ("SELECT rowid, embedding <=> ?::vector AS distance FROM chunk_vectors WHERE chatbot_id = ?"
            f" ORDER BY embedding::halfvec({int(dim)}) <=> ?::halfvec({int(dim)}) LIMIT ?")


def _pg_knn(sync, chatbot_id: str, query_text: str, k: int) -> list[tuple[int, float]]:
    """On the connection's thread. k past the session's ef_search needs a wider candidate list:
    then a short transaction of its own for the SET LOCAL (or the caller's, if one is open)."""
    sql, params = _pg_knn_sql(query_text.count(",") + 1), (query_text, chatbot_id, query_text, k)
    if k <= HNSW_EF_SEARCH:
        rows = sync.execute(sql, params).fetchall()
    else:
        own = not sync.in_transaction
        if own:
            sync.execute("BEGIN")
        try:
            sync.execute("SELECT set_config('hnsw.ef_search', ?, true)", (str(int(k)),))
            rows = sync.execute(sql, params).fetchall()
        finally:
            if own:
                sync.execute("COMMIT")
    return sorted(((row[0], 1.0 - float(row[1])) for row in rows), key=lambda hit: -hit[1])


# A term in more chunks than this is treated as common: BM25 gives it almost no weight, yet
# ranking every chunk it matches is what makes keyword search slow in a large bot.
COMMON_TERM_CHUNKS = 3000


def plain_terms(text: str) -> list[str]:
    """The query's distinct words, lower-cased, stopwords left out (unless there is nothing else)."""
    words = [w.lower() for w in _WORD.findall(text)]
    terms = list(dict.fromkeys(w for w in words if w not in STOPWORDS)) or list(dict.fromkeys(words))
    return terms[:32]


def query_terms(text: str, chatbot_id: str) -> list[str]:
    """The query's words, keyed to the bot and quoted (so no FTS syntax leaks in)."""
    tag = bot_tag(chatbot_id)
    return [f'"{tag}{term}"' for term in plain_terms(text)]


# One term's matches in one bot, counted up to COMMON_TERM_CHUNKS (SQLite: the term carries the
# bot's tag, so its FTS5 postings are the bot's alone).
_COUNT_MATCHES = "SELECT count(*) FROM (SELECT 1 FROM chunk_fts WHERE chunk_fts MATCH ? LIMIT ?) AS t"
# ts_rank's weights are {D, C, B, A}: title (C) 0.6, heading (B) 0.8, text (A) 1.0, as SQLite's
# bm25(chunk_fts, 1.0, 0.6, 0.8) weighs text, title, heading. Normalization 1 divides by the log
# of the chunk's length, as BM25 favours shorter chunks. Scores come back negated: lower is better
# on both backends.
# KEYWORD_WEIGHTS is (text, title, heading); a search may pass others (bench/retrieval_eval.py
# measures heavier titles and headings).
KEYWORD_WEIGHTS = (1.0, 0.6, 0.8)
_KEYWORD_SEARCH_SQLITE = ("SELECT rowid, bm25(chunk_fts, ?, ?, ?) AS rank FROM chunk_fts"
                          " WHERE chunk_fts MATCH ? ORDER BY rank LIMIT ?")
# Postgres, in one statement: each word's chunk count in the bot from chunk_terms (migration 0012;
# a word that stems to several lexemes counts as its rarest, a stopword as 0), the query built as
# keyword_query builds it (the rare words OR-ed, else every word AND-ed), then the ranking. The
# words are runs of letters and digits (_WORD), so none of to_tsquery's operators can come from a user.
_KEYWORD_SEARCH_PG = """
WITH words AS (
    SELECT u.word, u.n, coalesce((SELECT min(ct.chunks) FROM chunk_terms ct WHERE ct.chatbot_id = ?
                                  AND ct.lexeme = ANY(tsvector_to_array(to_tsvector('modelpilot_english', u.word)))), 0) AS chunks
    FROM unnest(?::text[]) WITH ORDINALITY AS u(word, n)
), query AS (
    SELECT to_tsquery('modelpilot_english', CASE WHEN bool_or(chunks < ?)
                                      THEN string_agg(word, ' | ' ORDER BY n) FILTER (WHERE chunks < ?)
                                      ELSE string_agg(word, ' & ' ORDER BY n) END) AS q
    FROM words
)
SELECT c.rowid, -ts_rank(?::float4[], c.fts, query.q, 1) AS rank
FROM query, chunks c WHERE c.fts @@ query.q AND c.chatbot_id = ?
ORDER BY rank, c.rowid LIMIT ?"""


async def _is_common(conn: Connection, term: str) -> bool:
    count = await fetch_value(conn, _COUNT_MATCHES, (term, COMMON_TERM_CHUNKS))
    return count >= COMMON_TERM_CHUNKS


async def keyword_query(conn: Connection, text: str, chatbot_id: str) -> str | None:
    """SQLite: an FTS5 query of any of the distinctive words; if every word is common, all of
    them together. (Postgres builds the same query inside its one keyword statement.)"""
    terms = query_terms(text, chatbot_id)
    if not terms:
        return None
    rare = [t for t in terms if not await _is_common(conn, t)]
    return " OR ".join(rare) if rare else " AND ".join(terms)


def pg_rank_weights(weights: tuple[float, float, float]) -> list[float]:
    """ts_rank's {D, C, B, A} for (text, title, heading) weights: scaled so the largest is 1
    (ts_rank wants them in 0..1; the order of the ranking does not change with the scale)."""
    text, title, heading = (float(w) for w in weights)
    top = max(text, title, heading, 0.1)
    return [0.1 / top, title / top, heading / top, text / top]


async def keyword_search(conn: Connection, chatbot_id: str, text: str, k: int,
                         weights: tuple[float, float, float] = KEYWORD_WEIGHTS) -> list[tuple[int, float]]:
    """(rowid, bm25 score; lower is better) of the k best keyword matches in one bot;
    weights are the text's, title's and heading's."""
    if dialect(conn) == "postgres":
        terms = plain_terms(text)
        if not terms:
            return []
        rows = await fetch_all(conn, _KEYWORD_SEARCH_PG, (chatbot_id, terms, COMMON_TERM_CHUNKS, COMMON_TERM_CHUNKS,
                                                          pg_rank_weights(weights), chatbot_id, k))
    else:
        query = await keyword_query(conn, text, chatbot_id)
        if query is None:
            return []
        rows = await fetch_all(conn, _KEYWORD_SEARCH_SQLITE, (*(float(w) for w in weights), query, k))
    return [(row["rowid"], float(row["rank"])) for row in rows]


async def similarities(conn: Connection, rowids: Sequence[int], query: np.ndarray) -> dict[int, float]:
    """Cosine similarity of given chunks to the query (vectors are unit length).
    One point lookup per rowid: vec0 answers `rowid IN (...)` with a scan of the whole table."""
    if dialect(conn) == "postgres":
        if not rowids:
            return {}
        rows = await fetch_all(conn, "SELECT rowid, 1 - (embedding <=> ?::vector) AS similarity FROM chunk_vectors"
                                     " WHERE rowid = ANY(?)", (vector_text(query), list(rowids)))
        return {row["rowid"]: float(row["similarity"]) for row in rows}
    q = np.asarray(query, dtype=np.float32)
    out: dict[int, float] = {}
    for rowid in rowids:
        row = await fetch_one(conn, "SELECT embedding FROM chunk_vectors WHERE rowid = ?", (rowid,))
        if row is not None:
            out[rowid] = float(np.frombuffer(row["embedding"], dtype=np.float32) @ q)
    return out


async def chunks_by_rowid(conn: Connection, workspace_id: str, rowids: Sequence[int]) -> dict[int, dict]:
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    # The unary + keeps SQLite on the rowid lookups: with a big workspace it otherwise picks the
    # workspace index and walks every chunk of the tenant (measured: 2 ms -> 80 ms at 400k chunks).
    columns = ", ".join(f"c.{name.strip()}" for name in CHUNK_COLUMNS.split(","))
    # The document's title and crawl mode come along: citations name a document by its current title.
    # (Postgres has no unary + on text, and needs no hint: it looks the rowids up by key.)
    not_indexed = "+" if dialect(conn) == "sqlite" else ""
    rows = await fetch_all(conn, f"SELECT {columns}, d.title AS document_title, d.mode AS document_mode"
                                 f" FROM chunks c JOIN documents d ON d.id = c.document_id"
                                 f" WHERE c.rowid IN ({marks}) AND {not_indexed}c.workspace_id = ?",
                           [*rowids, workspace_id])
    return {row["rowid"]: row for row in rows}


async def list_document_chunks(conn: Connection, workspace_id: str, document_id: str, limit: int = 1000) -> list[dict]:
    return await fetch_all(conn, f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE workspace_id = ? AND document_id = ?"
                                 " ORDER BY rowid LIMIT ?", (workspace_id, document_id, limit))


async def count_document_chunks(conn: Connection, workspace_id: str, document_id: str) -> int:
    return await fetch_value(conn, "SELECT count(*) FROM chunks WHERE workspace_id = ? AND document_id = ?",
                             (workspace_id, document_id))


# ---- re-embedding a workspace (rag/workspace_embedding.py) ---------------------------------
# chunks.embedding names the embedding that made a chunk's vector (NULL: the built-in model).
# While a workspace moves to another embedding, the vector half of search compares the question
# only with chunks of the current one: vectors of two models are never compared.

def _marker_is(identity: str | None, column: str = "embedding") -> str:
    return f"{column} IS NULL" if identity is None else f"{column} = ?"


def _marker_params(identity: str | None) -> tuple:
    return () if identity is None else (identity,)


async def count_embedded(conn: Connection, workspace_id: str, identity: str | None) -> tuple[int, int]:
    """(chunks of the workspace embedded with `identity`, all its chunks)."""
    done = await fetch_value(conn, f"SELECT count(*) FROM chunks WHERE workspace_id = ? AND {_marker_is(identity)}",
                             (workspace_id, *_marker_params(identity)))
    total = await fetch_value(conn, "SELECT count(*) FROM chunks WHERE workspace_id = ?", (workspace_id,))
    return int(done), int(total)


async def chunks_not_embedded_with(conn: Connection, workspace_id: str, identity: str | None,
                                   limit: int) -> list[dict]:
    """Up to `limit` chunks of the workspace whose vector another embedding made, in rowid order."""
    other = "embedding IS NOT NULL" if identity is None else "(embedding IS NULL OR embedding <> ?)"
    return await fetch_all(conn, f"SELECT rowid, chatbot_id, kind, title, heading, text FROM chunks"
                                 f" WHERE workspace_id = ? AND {other} ORDER BY rowid LIMIT ?",
                           (workspace_id, *_marker_params(identity), limit))


async def replace_vectors(conn: Connection, workspace_id: str, identity: str | None,
                          rows: Sequence[dict], vectors: np.ndarray) -> int:
    """New vectors for chunks (rows from chunks_not_embedded_with), marked with their embedding;
    chunks deleted meanwhile are skipped. Call inside a write transaction."""
    if not rows:
        return 0
    rowids = [int(row["rowid"]) for row in rows]
    marks = ",".join("?" * len(rowids))
    present = {r["rowid"] for r in await fetch_all(
        conn, f"SELECT rowid FROM chunks WHERE workspace_id = ? AND rowid IN ({marks})", (workspace_id, *rowids))}
    keep = [(i, rowid) for i, rowid in enumerate(rowids) if rowid in present]
    if not keep:
        return 0
    kept = [rowid for _, rowid in keep]
    if dialect(conn) == "postgres":
        await execute(conn, "UPDATE chunk_vectors SET embedding = t.e::vector FROM unnest(?::bigint[], ?::text[])"
                            " AS t(r, e) WHERE chunk_vectors.rowid = t.r",
                      (kept, [vector_text(vectors[i]) for i, _ in keep]))
    else:
        await execute_many(conn, "UPDATE chunk_vectors SET embedding = ? WHERE rowid = ?",
                           [(vector_bytes(vectors[i]), rowid) for i, rowid in keep])
    # Marking the chunks draws their bots' new vector generations on SQLite (migration 0021's
    # trigger), so no matrix in memory outlives the vectors it copied.
    marks = ",".join("?" * len(kept))
    await execute(conn, f"UPDATE chunks SET embedding = ? WHERE workspace_id = ? AND rowid IN ({marks})",
                  (identity, workspace_id, *kept))
    return len(kept)


async def vector_knn_of_embedding(conn: Connection, workspace_id: str, chatbot_id: str, query: np.ndarray, k: int,
                                  identity: str | None) -> list[tuple[int, float]]:
    """vector_knn among the bot's chunks embedded with `identity` only (a workspace being re-embedded)."""
    if dialect(conn) == "postgres":
        dim = int(np.asarray(query).shape[-1])
        text = vector_text(query)
        rows = await fetch_all(
            conn, f"SELECT v.rowid, v.embedding <=> ?::vector AS distance FROM chunk_vectors v"
                  f" JOIN chunks c ON c.rowid = v.rowid WHERE v.chatbot_id = ? AND c.workspace_id = ?"
                  f" AND {_marker_is(identity, 'c.embedding')}"
                  f" ORDER BY v.embedding::halfvec({dim}) <=> ?::halfvec({dim}) LIMIT ?",
            (text, chatbot_id, workspace_id, *_marker_params(identity), text, k))
        return sorted(((row["rowid"], 1.0 - float(row["distance"])) for row in rows), key=lambda hit: -hit[1])
    rows = await fetch_all(conn, "SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ?"
                                 " AND chatbot_id = ? AND rowid IN (SELECT rowid FROM chunks WHERE workspace_id = ?"
                                 f" AND chatbot_id = ? AND {_marker_is(identity)})",
                           (vector_bytes(query), k, chatbot_id, workspace_id, chatbot_id, *_marker_params(identity)))
    return [(row["rowid"], 1.0 - float(row["distance"])) for row in rows]


async def embedded_with(conn: Connection, workspace_id: str, rowids: Sequence[int], identity: str | None) -> list[int]:
    """Those of the rowids whose vector `identity` made."""
    if not rowids:
        return []
    marks = ",".join("?" * len(rowids))
    rows = await fetch_all(conn, f"SELECT rowid FROM chunks WHERE workspace_id = ? AND rowid IN ({marks})"
                                 f" AND {_marker_is(identity)}", (workspace_id, *rowids, *_marker_params(identity)))
    return [row["rowid"] for row in rows]
