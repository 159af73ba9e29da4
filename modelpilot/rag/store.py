"""The search index: chunk rows, their vectors (sqlite-vec vec0) and full text (FTS5).

All three share the chunk's integer rowid. Deleting chunk rows deletes their vectors and FTS
rows through triggers (migration 0003), so every path that removes chunks, including foreign-key
cascades from a deleted bot or workspace, leaves nothing behind in the virtual tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from modelpilot.core.db import Connection, execute, execute_many, fetch_all, fetch_value
from modelpilot.core.ids import new_id

CHUNK_COLUMNS = "rowid, id, document_id, ordinal, kind, title, url, page, heading, text, answer, token_count"
_WORD = re.compile(r"\w+", re.UNICODE)
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


def bot_tag(chatbot_id: str) -> str:
    """A single FTS token naming the bot, so a keyword query can be limited to that bot."""
    return "bot" + re.sub(r"\W", "", chatbot_id).lower()


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


async def insert_chunks(conn: Connection, workspace_id: str, chatbot_id: str, document_id: str,
                        chunks: Sequence[NewChunk], vectors: np.ndarray, first_ordinal: int = 0) -> int:
    """Write chunks, vectors and (by trigger) FTS rows. Call inside a write transaction."""
    if not chunks:
        return 0
    base = await fetch_value(conn, "SELECT coalesce(max(rowid), 0) FROM chunks")
    tag = bot_tag(chatbot_id)
    rows = [(base + i + 1, new_id(), workspace_id, chatbot_id, document_id, first_ordinal + i, c.kind, c.title,
             c.url, c.page, c.heading, c.text, c.answer, c.token_count, tag) for i, c in enumerate(chunks)]
    await execute_many(conn, "INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, kind,"
                             " title, url, page, heading, text, answer, token_count, bot_tag)"
                             " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    await execute_many(conn, "INSERT INTO chunk_vectors (rowid, embedding, chatbot_id) VALUES (?, ?, ?)",
                       [(base + i + 1, vector_bytes(vectors[i]), chatbot_id) for i in range(len(chunks))])
    return len(chunks)


async def delete_document_chunks(conn: Connection, workspace_id: str, document_id: str,
                                 url: str | None = None) -> int:
    if url is None:
        return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ? AND document_id = ?",
                             (workspace_id, document_id))
    return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ? AND document_id = ? AND url = ?",
                         (workspace_id, document_id, url))


async def delete_bot_chunks(conn: Connection, workspace_id: str, chatbot_id: str) -> int:
    return await execute(conn, "DELETE FROM chunks WHERE workspace_id = ? AND chatbot_id = ?",
                         (workspace_id, chatbot_id))


async def vector_knn(conn: Connection, chatbot_id: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """(rowid, cosine similarity) of the k nearest vectors of one bot's partition."""
    rows = await fetch_all(conn, "SELECT rowid, distance FROM chunk_vectors"
                                 " WHERE embedding MATCH ? AND k = ? AND chatbot_id = ?",
                           (vector_bytes(query), k, chatbot_id))
    return [(row["rowid"], 1.0 - float(row["distance"])) for row in rows]


def keyword_query(text: str, chatbot_id: str) -> str | None:
    """An FTS5 query: the bot's tag AND any of the words (quoted, so no FTS syntax leaks in)."""
    words = [w.lower() for w in _WORD.findall(text)]
    terms = list(dict.fromkeys(w for w in words if w not in STOPWORDS)) or list(dict.fromkeys(words))
    if not terms:
        return None
    either = " OR ".join('"' + t.replace('"', "") + '"' for t in terms[:32])
    return f'bot_tag:"{bot_tag(chatbot_id)}" AND ({either})'


async def keyword_search(conn: Connection, chatbot_id: str, text: str, k: int) -> list[tuple[int, float]]:
    """(rowid, bm25 score; lower is better) of the k best keyword matches in one bot."""
    query = keyword_query(text, chatbot_id)
    if query is None:
        return []
    rows = await fetch_all(conn, "SELECT rowid, bm25(chunk_fts, 1.0, 0.6, 0.8, 0.0) AS rank FROM chunk_fts"
                                 " WHERE chunk_fts MATCH ? ORDER BY rank LIMIT ?", (query, k))
    return [(row["rowid"], float(row["rank"])) for row in rows]


async def similarities(conn: Connection, rowids: Sequence[int], query: np.ndarray) -> dict[int, float]:
    """Cosine similarity of given chunks to the query (vectors are unit length)."""
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    rows = await fetch_all(conn, f"SELECT rowid, embedding FROM chunk_vectors WHERE rowid IN ({marks})", list(rowids))
    q = np.asarray(query, dtype=np.float32)
    return {row["rowid"]: float(np.frombuffer(row["embedding"], dtype=np.float32) @ q) for row in rows}


async def chunks_by_rowid(conn: Connection, workspace_id: str, rowids: Sequence[int]) -> dict[int, dict]:
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    rows = await fetch_all(conn, f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE workspace_id = ? AND rowid IN ({marks})",
                           [workspace_id, *rowids])
    return {row["rowid"]: row for row in rows}


async def list_document_chunks(conn: Connection, workspace_id: str, document_id: str, limit: int = 1000) -> list[dict]:
    return await fetch_all(conn, f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE workspace_id = ? AND document_id = ?"
                                 " ORDER BY rowid LIMIT ?", (workspace_id, document_id, limit))
