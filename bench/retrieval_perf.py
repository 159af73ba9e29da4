"""Search latency: p50/p95 of the real search path (query embedding, vector KNN, BM25, fusion,
chunk fetch) with 10k and 100k chunks in one bot, then again with 1M chunks across the instance
to show a bot's search does not depend on other bots' sizes. On SQLite each size is timed twice,
same questions: with sqlite-vec's scan (the vector matrix off; the baseline) and from the bot's
matrix in memory (rag/vector_cache.py), with the share of searches whose hits were identical.

Chunks, vectors and text are synthetic (generated straight into the database for scale); the
search itself is the code the API runs. `--quick` skips the 1M phase. Vectors are clustered like
real embeddings (2,000 topics; chunks of one topic at cosine ~0.5 to each other, ~0 to the rest):
on uniformly random 384-dimension vectors every distance is nearly the same, so "the exact 20
nearest" is noise that no approximate index finds (HNSW recall@20 0.09 at 100k there).

The Postgres phase runs in the same process on the tests' embedded Postgres (or
MP_BENCH_DATABASE_URL, an empty database): the same chunks, the HNSW index built once after the
load (as after a bulk import), the same queries; it prints Postgres / SQLite p50 and p95 per size,
the KNN recall against an exact scan, and the server's shared_buffers beside the index size (an
index that does not fit is read from the OS cache on every search).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile, rss_mb, summary_ms, write_results  # noqa: E402

DIM = 384
BATCH = 20_000
QUERIES = 60
rng = np.random.default_rng(7)
TOPICS = 2_000
CENTERS = rng.standard_normal((TOPICS, DIM), dtype=np.float32)
CENTERS /= np.linalg.norm(CENTERS, axis=1, keepdims=True)
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pe", "da", "gu", "ho", "ji", "fe")
# A Zipf-distributed vocabulary of 20k words, like natural text: a few words are everywhere,
# most are rare. (A tiny uniform vocabulary would make every keyword match every chunk.)
VOCABULARY = ["".join(SYLLABLES[(n // 15 ** i) % 15] for i in range(4)) for n in range(20_000)]
ZIPF_WEIGHTS = np.cumsum(1.0 / np.arange(1, len(VOCABULARY) + 1))
WORDS = VOCABULARY


def zipf_words(r: random.Random, k: int) -> list[str]:
    return r.choices(VOCABULARY, cum_weights=ZIPF_WEIGHTS, k=k)


def fake_text(r: random.Random) -> str:
    return " ".join(zipf_words(r, 40))


def setup_instance(path: Path) -> str:
    from modelpilot.core.db import connect_sync
    from modelpilot.core.migrate import apply_migrations

    apply_migrations(path)
    conn = connect_sync(path)
    conn.execute("INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('ws', 'Bench', 't', 't')")
    conn.close()
    return "ws"


def clustered_vectors(n: int) -> np.ndarray:
    """Unit vectors near random topic centres (noise of the centre's own length)."""
    noise = rng.standard_normal((n, DIM), dtype=np.float32) / np.sqrt(DIM)
    vectors = CENTERS[rng.integers(0, TOPICS, n)] + noise
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def synthetic_batches(conn, bot_id: str, count: int, seed: int):
    """Adds the bot, its document and `count` chunk rows in batches; yields each batch's rowids,
    texts and unit vectors, for the backend's own keyword and vector rows."""
    r = random.Random(seed)
    conn.execute("INSERT INTO chatbots (id, workspace_id, name, slug, model, created_at, updated_at)"
                 " VALUES (?, 'ws', ?, ?, 'builtin/extractive', 't', 't')", (bot_id, bot_id, bot_id))
    conn.execute("INSERT INTO documents (id, workspace_id, chatbot_id, source_type, title, created_at, updated_at)"
                 " VALUES (?, 'ws', ?, 'text', 'synthetic', 't', 't')", (bot_id + "-doc", bot_id))
    base = conn.execute("SELECT coalesce(max(rowid), 0) FROM chunks").fetchone()[0]
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        vectors = clustered_vectors(n)
        ids = range(base + start + 1, base + start + n + 1)
        texts = [fake_text(r) for _ in ids]
        if getattr(conn, "dialect", "sqlite") == "postgres":  # one statement a batch, as rag/store.insert_chunks
            conn.execute("INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, title, text)"
                         " SELECT r, 'c' || r, 'ws', ?, ?, r, 'synthetic', t FROM unnest(?::bigint[], ?::text[]) AS u(r, t)",
                         (bot_id, bot_id + "-doc", list(ids), texts))
        else:
            conn.executemany("INSERT INTO chunks (rowid, id, workspace_id, chatbot_id, document_id, ordinal, title, text)"
                             " VALUES (?, ?, 'ws', ?, ?, ?, 'synthetic', ?)",
                             [(i, f"c{i}", bot_id, bot_id + "-doc", i, texts[j]) for j, i in enumerate(ids)])
        yield ids, texts, vectors


def add_bot(path: Path, bot_id: str, count: int, seed: int) -> None:
    from modelpilot.core.db import connect_sync
    from modelpilot.rag.store import fts_row

    conn = connect_sync(path)
    conn.execute("BEGIN")
    for ids, texts, vectors in synthetic_batches(conn, bot_id, count, seed):
        conn.executemany("INSERT INTO chunk_fts (rowid, text, title, heading) VALUES (?, ?, ?, ?)",
                         [fts_row(i, texts[j], "synthetic", None, bot_id) for j, i in enumerate(ids)])
        conn.executemany("INSERT INTO chunk_vectors (rowid, embedding, chatbot_id) VALUES (?, ?, ?)",
                         [(i, vectors[j].tobytes(), bot_id) for j, i in enumerate(ids)])
    conn.execute("COMMIT")
    conn.close()


async def time_searches(path: Path, bot_id: str) -> dict:
    """Search latency, and beside it the query embedding alone timed in the same moments: the
    machine is shared, so the embedding time shows how loaded it was during this phase.
    The same questions twice: first with sqlite-vec's scan (the vector matrix off: the baseline),
    then from the bot's matrix in memory (rag/vector_cache.py), once it has been read; the two
    must return the same hits (the matrix scan is exact too)."""
    from modelpilot.core.db import SqliteDatabase
    from modelpilot.rag.vector_cache import CACHE, DEFAULT_BUDGET_MB

    db = SqliteDatabase(path)
    await db.open()
    bot = SimpleNamespace(id=bot_id, top_k=5, score_threshold=0.0)  # what retrieval reads (BotScope)
    try:
        CACHE.configure(0)
        baseline = await _timed_questions(db, bot)
        CACHE.configure(DEFAULT_BUDGET_MB)
        read_s = await _matrix_ready(db, bot)
        timed = await _timed_questions(db, bot)
        repeated = await time_repeats(db, bot, timed["asked"])
    finally:
        await db.close()
    same = sum(a == b for a, b in zip(baseline["hits"], timed["hits"])) / len(timed["hits"])
    return {"search": summary_ms(timed["searches"]), "query_embedding_same_phase": summary_ms(timed["embeddings"]),
            "search_sqlite_vec_scan": summary_ms(baseline["searches"]),
            "query_embedding_baseline_phase": summary_ms(baseline["embeddings"]),
            "p50_ratio_matrix_to_sqlite_vec": round(percentile(timed["searches"], 50)
                                                    / percentile(baseline["searches"], 50), 3),
            "same_hits_as_sqlite_vec": round(same, 3), "matrix_read_seconds": read_s,
            "matrix_mb": round(CACHE.held_bytes() / 1e6, 1), "repeated_question_search": repeated}


async def _timed_questions(db, bot) -> dict:
    from modelpilot.rag.embedder import embed_query
    from modelpilot.rag.retrieve import search

    r = random.Random(11)
    for _ in range(3):
        await search(db, "ws", bot, "warm up the caches")
    searches, embeddings, asked, found = [], [], [], []
    for _ in range(QUERIES):
        query = "how do I " + " ".join(zipf_words(r, 4))
        asked.append(query)
        forget_query_vectors()
        started = time.perf_counter()
        await embed_query(query + " (probe)")
        embeddings.append(time.perf_counter() - started)
        forget_query_vectors()  # every search pays for its embedding (repeats: repeated_question_search)
        started = time.perf_counter()
        hits = await search(db, "ws", bot, query)
        searches.append(time.perf_counter() - started)
        assert hits, "search returned nothing"
        found.append([hit.chunk.chunk_id for hit in hits])
    return {"searches": searches, "embeddings": embeddings, "asked": asked, "hits": found}


async def _matrix_ready(db, bot) -> float:
    """Seconds from the first search that finds no matrix to the first that uses it."""
    from modelpilot.rag import retrieve, store
    from modelpilot.rag.embedder import embed_query

    vector = await embed_query("warm up the caches")
    key = retrieve._cache_key(db, bot.id)
    started = time.perf_counter()
    while True:
        await retrieve.search(db, "ws", bot, "warm up the caches")
        async with db.read() as conn:
            _, matrix = await store.vector_knn_cached(conn, "ws", bot.id, vector, 20, key)
        if matrix is not None:
            return round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.05)


async def time_repeats(db, bot, asked: list[str]) -> dict:
    """The same questions asked again: their vectors come from the query cache."""
    from modelpilot.rag.embedder import embed_query
    from modelpilot.rag.retrieve import search

    for query in asked:  # asked before: in the cache, as after a first visitor
        await embed_query(query)
    samples = []
    for query in asked:
        started = time.perf_counter()
        await search(db, "ws", bot, query)
        samples.append(time.perf_counter() - started)
    return summary_ms(samples)


def forget_query_vectors() -> None:
    """Empties the query-embedding cache (rag/embedder.py): the figures are for new questions."""
    from modelpilot.rag import embedder

    embedder._query_cache.clear()


async def time_query_embedding() -> dict:
    from modelpilot.rag.embedder import embed_query

    samples = []
    for i in range(QUERIES):
        started = time.perf_counter()
        await embed_query(f"how do I reset the password of account number {i}")
        samples.append(time.perf_counter() - started)
    return summary_ms(samples)


# --- Postgres (pgvector + tsvector), in the same process run: a pgserver as tests/pg_support.py starts it.

def setup_postgres() -> str:
    import os

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from modelpilot.core.migrate import apply_postgres_migrations
    from modelpilot.core.pg import connect_sync

    url = os.environ.get("MP_BENCH_DATABASE_URL", "")
    if url:
        apply_postgres_migrations(url)
    else:
        from tests.pg_support import fresh_database

        url = fresh_database()
    conn = connect_sync(url)
    conn.execute("INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('ws', 'Bench', 't', 't')")
    conn.close()
    return url


def add_bot_pg(url: str, bot_id: str, count: int, seed: int) -> None:
    """The same synthetic chunks as add_bot (vectors indexed afterwards: index_vectors_pg)."""
    from modelpilot.core.pg import connect_sync
    from modelpilot.rag.store import vector_text

    conn = connect_sync(url)
    for ids, texts, vectors in synthetic_batches(conn, bot_id, count, seed):
        conn.execute("INSERT INTO chunk_vectors (rowid, embedding, chatbot_id)"
                     " SELECT r, e::vector, ? FROM unnest(?::bigint[], ?::text[]) AS u(r, e)",
                     (bot_id, list(ids), [vector_text(v) for v in vectors]))
    conn.close()


def index_vectors_pg(url: str, drop: bool) -> dict:
    """The HNSW index built over every vector at once (minutes faster than row by row, the same
    graph parameters and half-precision copies as migration 0017's), then VACUUM ANALYZE; its size beside
    shared_buffers."""
    from modelpilot.core.pg import connect_sync

    conn = connect_sync(url)
    try:
        if drop:
            conn.execute("DROP INDEX chunk_vectors_hnsw")
            return {}
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX chunk_vectors_hnsw ON chunk_vectors USING hnsw"
                     f" ((embedding::halfvec({DIM})) halfvec_cosine_ops)")
        # VACUUM too: after a bulk load autovacuum would otherwise visit the new rows (and the HNSW
        # index) during the timed searches, a one-off of the import, not what a search costs.
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT pg_size_pretty(pg_relation_size('chunk_vectors_hnsw')),"
                           " pg_size_pretty(pg_total_relation_size('chunk_vectors') + pg_total_relation_size('chunks')),"
                           " current_setting('shared_buffers')").fetchone()
        return {"hnsw_index_size": row[0], "vectors_and_chunks_size": row[1], "shared_buffers": row[2]}
    finally:
        conn.close()


EXACT_KNN = ("SELECT rowid, embedding <=> ?::vector AS distance FROM chunk_vectors WHERE chatbot_id = ?"
             " ORDER BY distance LIMIT ?")  # full precision, every row of the bot


def knn_recall_pg(url: str, bot_id: str, k: int = 20, queries: int = 30) -> float:
    """Recall@k of the store's KNN (HNSW, iterative scan) against an exact scan of the bot."""
    from modelpilot.core.pg import connect_sync
    from modelpilot.rag.store import _pg_knn, vector_text

    conn = connect_sync(url)
    found = 0
    try:
        for _ in range(queries):
            text = vector_text(clustered_vectors(1)[0])
            approx = {rowid for rowid, _ in _pg_knn(conn, bot_id, text, k)}
            conn.execute("BEGIN")
            conn.execute("SET LOCAL enable_indexscan = off")  # the planner must sort every row of the bot
            exact = {row[0] for row in conn.execute(EXACT_KNN, (text, bot_id, k)).fetchall()}
            conn.execute("COMMIT")
            found += len(approx & exact)
    finally:
        conn.close()
    return round(found / (k * queries), 4)


async def time_searches_pg(url: str, bot_id: str) -> dict:
    from modelpilot.core.pg import PostgresDatabase

    db = PostgresDatabase(url)
    await db.open()
    bot = SimpleNamespace(id=bot_id, top_k=5, score_threshold=0.0)  # what retrieval reads (BotScope)
    try:
        timed = await _timed_questions(db, bot)
        repeated = await time_repeats(db, bot, timed["asked"])
    finally:
        await db.close()
    return {"search": summary_ms(timed["searches"]), "query_embedding_same_phase": summary_ms(timed["embeddings"]),
            "repeated_question_search": repeated}


def postgres_phase(sqlite_results: dict, sizes: list[int]) -> dict:
    url = setup_postgres()
    out: dict = {}
    index_vectors_pg(url, drop=True)
    for n, size in enumerate(sizes):
        started = time.perf_counter()
        add_bot_pg(url, f"bot{size // 1000}k", size, n + 1)
        out[f"build_{size // 1000}k_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    out["server"] = index_vectors_pg(url, drop=False)
    out["hnsw_index_build_seconds"] = round(time.perf_counter() - started, 1)
    for size in sizes:
        name = f"bot_{size // 1000}k"
        timing = asyncio.run(time_searches_pg(url, f"bot{size // 1000}k"))
        timing["knn_recall_at_20_vs_exact"] = knn_recall_pg(url, f"bot{size // 1000}k")
        lite = sqlite_results.get(name, {}).get("search")
        if lite:
            timing["sqlite_search"] = lite
            for pct in ("p50", "p95"):
                timing[f"{pct}_ratio_postgres_to_sqlite"] = round(timing["search"][f"{pct}_ms"] / lite[f"{pct}_ms"], 2)
            print(f"{name}: Postgres p50 {timing['search']['p50_ms']} ms / SQLite {lite['p50_ms']} ms ="
                  f" {timing['p50_ratio_postgres_to_sqlite']}; p95 ratio {timing['p95_ratio_postgres_to_sqlite']};"
                  f" KNN recall@20 vs exact {timing['knn_recall_at_20_vs_exact']}", flush=True)
        out[name] = timing
    out["goal"] = "Postgres p50 <= 20 ms at 100k chunks in one bot"
    return out


def main() -> None:
    from modelpilot.rag.embedder import get_embedder_sync

    quick = "--quick" in sys.argv
    if "--postgres-only" in sys.argv:  # the Postgres phase alone (sizes: --pg-sizes=10000,100000)
        get_embedder_sync()
        sizes = [int(x) for x in next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--pg-sizes=")),
                                      "10000").split(",")]
        results = {"postgres": postgres_phase({}, sizes), "loadavg": Path("/proc/loadavg").read_text().strip()}
        write_results("retrieval_perf_postgres", results)
        return
    get_embedder_sync()
    results: dict = {"loadavg_before": Path("/proc/loadavg").read_text().strip(),
                     "query_embedding_only": asyncio.run(time_query_embedding())}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "perf.db"
        setup_instance(path)
        started = time.perf_counter()
        add_bot(path, "bot10k", 10_000, 1)
        add_bot(path, "bot100k", 100_000, 2)
        results["build_110k_seconds"] = round(time.perf_counter() - started, 1)
        results["instance_110k"] = {"bot_10k": asyncio.run(time_searches(path, "bot10k")),
                                    "bot_100k": asyncio.run(time_searches(path, "bot100k"))}
        if not quick:
            started = time.perf_counter()
            for n in range(89):
                add_bot(path, f"filler{n}", 10_000, 100 + n)
            results["build_890k_more_seconds"] = round(time.perf_counter() - started, 1)
            results["instance_1m"] = {"bot_10k": asyncio.run(time_searches(path, "bot10k")),
                                      "bot_100k": asyncio.run(time_searches(path, "bot100k"))}
            results["db_size_mb"] = round(path.stat().st_size / 1e6)
        results["postgres_110k"] = postgres_phase(results["instance_110k"], [10_000, 100_000])
        results["rss_mb_model_loaded"] = round(rss_mb())
        results["loadavg_after"] = Path("/proc/loadavg").read_text().strip()
    write_results("retrieval_perf", results)


if __name__ == "__main__":
    main()
