"""Hybrid retrieval: vector KNN and BM25 keyword search, fused by reciprocal rank.

Fusion decides the order; the score a user sees (and the bot's threshold applies to) is the
cosine similarity of the chunk to the question, 0..1, which means the same thing for every bot.
The question is embedded with the workspace's embedding (rag/workspace_embedding.py). Where no
cosine can be had (the provider failed: keyword-only; or, mid re-embedding, a chunk whose vector
another model made) a keyword hit keeps its rank, passes the threshold and shows score 0.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from types import EllipsisType
from typing import Awaitable, Protocol, TypeVar

import numpy as np

from modelpilot.core.db import Database
from modelpilot.rag import embedding_repo, store
from modelpilot.rag.embedder import embed_query
from modelpilot.rag.vector_cache import CACHE, BotVectors
from modelpilot.rag.workspace_embedding import WorkspaceEmbedding, embed_query_with

log = logging.getLogger("modelpilot.rag")
A = TypeVar("A")
B = TypeVar("B")

RRF_K = 60          # the usual constant: damps the difference between rank 1 and rank 2
MIN_CANDIDATES = 20
MAX_TOP_K = 50
# At most this many chunks of one page in the final top k (bench/retrieval_eval.py measures 1, 2, none).
PER_PAGE = 2
# (the bot has knowledge, the workspace's embedding setting row or None): embedding_repo.search_scope
SearchScope = tuple[bool, dict | None]


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    document_id: str
    title: str
    text: str
    score: float
    url: str | None = None
    page: int | None = None
    heading: str | None = None
    kind: str = "text"          # "text" or "faq"
    answer: str | None = None   # for FAQ chunks: the answer alone


@dataclass(frozen=True)
class ScoredHit:
    chunk: RetrievedChunk
    fused: float
    vector_rank: int | None
    keyword_rank: int | None
    passed: bool = True         # over the bot's threshold (only explain lists those that are not)


class BotScope(Protocol):
    """What retrieval needs of a bot (rag imports no other domain; chatbots' Bot fits)."""

    id: str
    top_k: int
    score_threshold: float


def fuse(vector_ids: list[int], keyword_ids: list[int], keyword_weight: float = 1.0) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of two ranked id lists, best first (the keyword list's terms times
    keyword_weight)."""
    scores: dict[int, float] = {}
    for ranking, weight in ((vector_ids, 1.0), (keyword_ids, keyword_weight)):
        for rank, rowid in enumerate(ranking, start=1):
            scores[rowid] = scores.get(rowid, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both results, the two run concurrently; if one fails, the other is cancelled (not left
    running with nobody waiting for it) and the failure is raised."""
    tasks = [asyncio.ensure_future(first), asyncio.ensure_future(second)]
    try:
        a, b = await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()  # a no-op on a finished task
    return a, b


async def search(db: Database, workspace_id: str, bot: BotScope, query: str, *, top_k: int | None = None,
                 mode: str = "hybrid", per_page: int | None | EllipsisType = ..., explain: bool = False,
                 keyword_weights: tuple[float, float, float] = store.KEYWORD_WEIGHTS,
                 keyword_weight: float = 1.0, scope: SearchScope | None = None) -> list[ScoredHit]:
    """Ranked hits with their ranks in each list; mode is hybrid, vector or keyword.

    At most `per_page` chunks of one page (document, URL, PDF page) make the top k (None: no
    limit; left out, PER_PAGE): a long page whose every chunk shares the question's words cannot crowd out the page
    that answers. With `explain`, chunks under the bot's threshold that ranked among them are
    listed too, in their place, with passed=False (at most k of them); the passing hits are
    exactly the ones the bot gets. keyword_weights: BM25's weights of a chunk's text, title and
    heading (store.KEYWORD_WEIGHTS unless measuring others); keyword_weight: the keyword list's
    share in the fusion (1: equal to the vector list's). scope: scope_sync's answer when the
    caller has read it already, with other things in one hop (chat's turn)."""
    k = max(1, min(int(top_k or bot.top_k or 5), MAX_TOP_K))
    if per_page is ...:
        per_page = PER_PAGE
    threshold = float(bot.score_threshold or 0.0)
    query = query.strip()
    if not query:
        return []
    if scope is None:
        async with db.read() as conn:
            scope = await embedding_repo.search_scope(conn, workspace_id, bot.id)
    has_chunks, setting_row = scope
    if not has_chunks:
        return []  # every chat asks; a bot with no knowledge must not pay for an embedding
    setting = WorkspaceEmbedding.from_row(setting_row)
    candidates = max(MIN_CANDIDATES, 4 * k)
    # Mid re-embedding the matrix in memory holds vectors of two models: not used then.
    cache_key = None if setting.mixed else _cache_key(db, bot.id)

    async def keyword_side() -> list[tuple[int, float]]:
        if mode == "vector":
            return []
        async with db.read() as conn:
            return await store.keyword_search(conn, bot.id, query, candidates, keyword_weights)

    async def vector_side() -> tuple[np.ndarray | None, list[tuple[int, float]], BotVectors | None]:
        vector = await _question_vector(db, workspace_id, setting, query)
        if mode == "keyword" or vector is None:
            return vector, [], None
        async with db.read() as conn:
            if setting.mixed:  # only chunks of the workspace's current embedding are comparable
                return vector, await store.vector_knn_of_embedding(conn, workspace_id, bot.id, vector, candidates,
                                                                   setting.identity), None
            if cache_key is None:
                return vector, await store.vector_knn(conn, bot.id, vector, candidates), None
            hits, matrix = await store.vector_knn_cached(conn, workspace_id, bot.id, vector, candidates, cache_key)
            return vector, hits, matrix

    # The keyword search (one reader connection) needs nothing of the question's embedding and
    # nearest vectors (a worker thread, then another reader connection): both sides run at the
    # same time, so a search costs the slower side, not their sum.
    keyword_hits, (vector, vector_hits, matrix) = await both(keyword_side(), vector_side())
    if cache_key is not None and matrix is None and mode != "keyword" and vector is not None:
        _read_matrix_later(db, workspace_id, bot.id, cache_key)
    async with db.read() as conn:
        fused = fuse([r for r, _ in vector_hits], [r for r, _ in keyword_hits], keyword_weight)
        similarity = dict(vector_hits)
        missing = [rowid for rowid, _ in fused if rowid not in similarity]
        # Keyword hits whose likeness to the question cannot be measured (no question vector: the
        # provider failed; or their vector is of another model, mid re-embedding) keep their
        # keyword rank and pass the threshold, which is a cosine of one model's vectors.
        unmeasured: set[int] = set()
        if vector is None:
            unmeasured, missing = set(missing), []
        elif setting.mixed:
            comparable = await store.embedded_with(conn, workspace_id, missing, setting.identity)
            unmeasured, missing = set(missing) - set(comparable), comparable
        if matrix is not None:
            similarity.update(matrix.similarities(missing, vector))
        elif missing:
            similarity.update(await store.similarities(conn, missing, vector))

        def passes(rowid: int) -> bool:
            return rowid in unmeasured or similarity.get(rowid, 0.0) >= threshold
        # Only the rows that can be shown are read: the first k over the threshold, in fused
        # order (fusing 2 x 20 candidates, reading all 40 rows was most of the fetch on
        # Postgres, a random heap page each); more only when diversity or a row gone since the
        # search (deleted meanwhile) leaves room. Explain (an admin's tool) reads them all.
        pending = list(fused) if explain else [hit for hit in fused if passes(hit[0])]
        rows: dict[int, dict] = {}
        if explain:
            rows = await store.chunks_by_rowid(conn, workspace_id, [rowid for rowid, _ in pending])
        chosen: list[tuple[int, float, bool]] = []
        taken: dict[tuple, int] = {}     # passing chunks per page: what the bot gets
        shown: dict[tuple, int] = {}     # with explain, below-threshold ones too
        passed = below = 0
        while pending and passed < k:
            # The first read takes the rows that can fill the top k; if some are left out (one
            # page's limit reached, a row deleted meanwhile), the next takes all the rest at once:
            # two reads at most. (A few rows at a time meant ~13 reads for a bot whose knowledge
            # is one long document: 4.5 ms of a search on Postgres.)
            size = k - passed if not rows else len(pending)
            batch, pending = pending[:size], pending[size:]
            if not explain:
                rows.update(await store.chunks_by_rowid(conn, workspace_id, [rowid for rowid, _ in batch]))
            for rowid, fused_score in batch:
                if passed >= k:
                    break
                row = rows.get(rowid)
                if row is None:
                    continue
                key = (row["document_id"], row["url"], row["page"])
                if passes(rowid):
                    if per_page and taken.get(key, 0) >= per_page:
                        continue
                    taken[key] = taken.get(key, 0) + 1
                    passed += 1
                    chosen.append((rowid, fused_score, True))
                elif below < k and not (per_page and shown.get(key, 0) >= per_page):
                    below += 1
                    chosen.append((rowid, fused_score, False))
                else:
                    continue
                shown[key] = shown.get(key, 0) + 1
    vector_rank = {rowid: i for i, (rowid, _) in enumerate(vector_hits, start=1)}
    keyword_rank = {rowid: i for i, (rowid, _) in enumerate(keyword_hits, start=1)}
    return [ScoredHit(_as_chunk(rows[rowid], similarity.get(rowid, 0.0)), fused_score, vector_rank.get(rowid),
                      keyword_rank.get(rowid), ok) for rowid, fused_score, ok in chosen]


# A provider that fails is logged once a minute per workspace, not once per question.
FALLBACK_LOG_SECONDS = 60.0
_fallback_logged: dict[str, float] = {}


async def _question_vector(db: Database, workspace_id: str, setting: WorkspaceEmbedding,
                           query: str) -> np.ndarray | None:
    """The question's vector; None when the workspace's provider embedding fails, so this question
    is answered from keyword search alone (the built-in model's failures are not expected: raised)."""
    if setting.identity is None:
        return await embed_query(query)  # the built-in model (tests replace this seam)
    try:
        return await embed_query_with(db, workspace_id, setting, query)
    except Exception as exc:  # the provider is down, slow or refusing: the chat still answers
        now = time.monotonic()
        if now - _fallback_logged.get(workspace_id, float("-inf")) >= FALLBACK_LOG_SECONDS:
            _fallback_logged[workspace_id] = now
            log.warning("workspace %s: the %s embedding failed (%s); searching by keywords only",
                        workspace_id, setting.identity, exc)
        return None


def _cache_key(db: Database, chatbot_id: str) -> tuple[str, str] | None:
    """SQLite's in-memory vectors are per database file and bot (rag/vector_cache.py)."""
    if db.backend != "sqlite" or CACHE.budget_bytes <= 0:
        return None
    return (str(getattr(db, "path", "")), chatbot_id)


_reads: set[asyncio.Task] = set()  # held until done: the loop keeps only weak references


def _read_matrix_later(db: Database, workspace_id: str, chatbot_id: str, key: tuple[str, str]) -> None:
    """A fresh matrix for the next searches, read on a reader connection beside this one."""
    if not CACHE.claim_read(key):
        return

    async def read() -> None:
        entry, retry_after = None, 0.0
        try:
            entry = await db.run_read(lambda conn: store.bot_vectors_sync(conn, workspace_id, chatbot_id,
                                                                          CACHE.max_rows))
            if entry is None:
                retry_after = 60.0  # over the budget: sqlite-vec it is; look again in a minute
        except Exception as exc:  # the database closed meanwhile, or a read failed: sqlite-vec goes on
            log.debug("vector matrix of bot %s not read: %s", chatbot_id, exc)
        finally:
            CACHE.finish_read(key, entry, retry_after)

    task = asyncio.get_running_loop().create_task(read(), name=f"vectors-{chatbot_id}")
    _reads.add(task)
    task.add_done_callback(_reads.discard)


def citation_title(row: dict) -> str:
    """A crawled site's pages are cited by their own titles; any other source by its document's
    title, which editors can change after indexing (the chunk keeps the one it was indexed with)."""
    if row.get("document_mode") in ("sitemap", "site") or not row.get("document_title"):
        return row["title"]
    return row["document_title"]


def _as_chunk(row: dict, score: float) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=row["id"], document_id=row["document_id"], title=citation_title(row), text=row["text"],
                          score=round(score, 4), url=row["url"], page=row["page"], heading=row["heading"],
                          kind=row["kind"], answer=row["answer"])


def scope_sync(conn, workspace_id: str, chatbot_id: str) -> SearchScope:
    """What a search reads before anything else (whether the bot has knowledge, and the
    workspace's embedding setting), on a blocking connection: search's `scope`."""
    return embedding_repo.search_scope_sync(conn, workspace_id, chatbot_id)


async def retrieve(db, workspace_id: str, bot: BotScope, query: str, *, top_k: int | None = None,
                   scope: SearchScope | None = None) -> list[RetrievedChunk]:
    """What the bot knows about the query: top_k chunks above the bot's score threshold."""
    return [hit.chunk for hit in await search(db, workspace_id, bot, query, top_k=top_k, scope=scope)]
