"""Retrieval quality on real documentation corpora: Recall@1 and Recall@5 of vector-only,
keyword-only and hybrid search, for each retrieval lever.

`--corpus python` (the default): the Python 3.11 docs (python3.11-doc); `--corpus postgres`:
PostgreSQL 15's manual (postgresql-doc-15), harder: paraphrased questions over ~190 pages, many
long ones sharing vocabulary. The corpora and their questions are in _corpora.py. The corpus is
served over 127.0.0.1 and crawled like a site by the real server (site mode from a start page that
links its pages). A question counts as found at k when a chunk of its page is among the first k.

Levers, measured one at a time on the same index (LEVERS): at most 1 or 2 chunks of one page in
the top k, or no limit. Each reports Recall@1/@5 per mode and hybrid search latency (p50/p95,
query embedding included).

The corpus is indexed once, on SQLite; `modelpilot copy-db`'s copy then puts the very same chunks
and vectors into Postgres (MP_BENCH_DATABASE_URL, an empty database, or else a fresh one on the
tests' embedded Postgres), and the same questions run on both: Postgres's Recall@k minus SQLite's
is printed (issue 16: within 0.01). `--sqlite-only` skips Postgres. Results go to
results/retrieval_eval.json (python) or results/retrieval_eval_postgres.json.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import summary_ms, write_results  # noqa: E402
from _corpora import CORPORA, Corpus  # noqa: E402
from _docs_site import DocsSite, require_corpus  # noqa: E402

MODES = ("vector", "keyword", "hybrid")
# The levers, measured one at a time on the same index: at most N chunks of one page in the top k.
# Then, over the default per-page limit, titles and headings weighing more in keyword search
# (BM25 weights of text, title, heading; today's are 1.0, 0.6, 0.8).
LEVERS = {"per_page_none": {"per_page": None}, "per_page_1": {"per_page": 1}, "per_page_2": {"per_page": 2},
          "title_heading_x2": {"keyword_weights": (1.0, 1.2, 1.6)},
          "title_heading_x4": {"keyword_weights": (1.0, 2.4, 3.2)},
          # and the keyword list counting for less than the vector list in the fusion.
          "keyword_fusion_0.5": {"keyword_weight": 0.5}, "keyword_fusion_0.7": {"keyword_weight": 0.7}}


def ingest_corpus(corpus: Corpus, data_dir: Path, database_url: str = "") -> tuple[dict, float]:
    from tests.knowledge.conftest import create_bot, wait_done
    from tests.support import Api, make_settings, start_server

    pages = corpus.pages
    site = DocsSite(pages, corpus)
    live = start_server(make_settings(data_dir, ingest_allow_private=True, crawl_max_pages=1000,
                                      database_url=database_url))
    try:
        api = Api(live.url)
        api.setup_owner()
        bot = create_bot(api, top_k=5)
        started = time.perf_counter()
        doc = api.ok("POST", f"/api/v1/workspaces/{api.ws}/chatbots/{bot}/documents/url", 202,
                     json={"url": f"{site.base}/bench-start.html", "mode": "site", "max_pages": len(pages) + 1})
        done = wait_done(api, bot, doc["id"], timeout=3600)
        elapsed = time.perf_counter() - started
        assert done["status"] == "indexed", done
        return {"workspace_id": api.ws, "bot": bot, "base": site.base, "chunks": done["chunk_count"]}, elapsed
    finally:
        live.stop()
        site.close()


async def evaluate(db, corpus: Corpus, indexed: dict) -> dict:
    """Every lever x mode: Recall@1/@5 and the pages missed at 5; per lever, hybrid search latency
    (query embedding included, as a chat pays it)."""
    from modelpilot.rag.retrieve import PER_PAGE, search

    await db.open()
    bot = SimpleNamespace(id=indexed["bot"], top_k=5, score_threshold=0.0)  # what retrieval reads (BotScope)
    results: dict = {"default_per_page": PER_PAGE, "levers": {}}
    try:
        await search(db, indexed["workspace_id"], bot, "warm up", top_k=5)  # loads the model
        # Levers interleaved question by question, so the machine's load falls on each alike.
        found = {(lever, mode): [] for lever in LEVERS for mode in MODES}
        took = {lever: [] for lever in LEVERS}
        for mode in MODES:
            for question, page in corpus.questions:
                for lever, options in LEVERS.items():
                    started = time.perf_counter()
                    hits = await search(db, indexed["workspace_id"], bot, question, top_k=5, mode=mode, **options)
                    if mode == "hybrid":
                        took[lever].append(time.perf_counter() - started)
                    found[lever, mode].append((page, [h.chunk.url for h in hits]))
        n = len(corpus.questions)
        for lever in LEVERS:
            scores: dict = {}
            for mode in MODES:
                expected = [(f"{indexed['base']}/{page}", urls) for page, urls in found[lever, mode]]
                at1 = sum(urls[:1] == [want] for want, urls in expected)
                at5 = sum(want in urls for want, urls in expected)
                misses = [page for page, urls in found[lever, mode] if f"{indexed['base']}/{page}" not in urls]
                scores[mode] = {"recall@1": round(at1 / n, 3), "recall@5": round(at5 / n, 3), "missed@5": misses}
            scores["hybrid_search"] = summary_ms(took[lever])
            results["levers"][lever] = scores
            print(corpus.name, lever, {mode: (scores[mode]["recall@1"], scores[mode]["recall@5"]) for mode in MODES},
                  "p50", scores["hybrid_search"]["p50_ms"], "ms", flush=True)
    finally:
        await db.close()
    default = results["levers"]["per_page_none" if PER_PAGE is None else f"per_page_{PER_PAGE}"]
    results.update({mode: default[mode] for mode in MODES})  # the default's figures, as before
    return results


def postgres_scores(db_path: Path, corpus: Corpus, indexed: dict) -> dict:
    """The SQLite instance copied into Postgres (copy-db: same chunk ids, vectors, texts), evaluated."""
    import os

    from modelpilot.core.pg import PostgresDatabase
    from modelpilot.ops.copy_db import copy_database

    url, ours = os.environ.get("MP_BENCH_DATABASE_URL", ""), False
    if not url:
        from tests.pg_support import fresh_database

        url, ours = fresh_database(migrated=False), True
    try:
        copy_database(db_path, url)
        return asyncio.run(evaluate(PostgresDatabase(url), corpus, indexed))
    finally:
        if ours:
            from tests.pg_support import drop_database

            drop_database(url)


def main() -> None:
    import argparse
    import tempfile

    from modelpilot.core.db import SqliteDatabase

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="python")
    parser.add_argument("--sqlite-only", action="store_true", help="skip the Postgres copy")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite",
                        help="postgres: index with the server on Postgres (no copy) and evaluate there;"
                             " results go to results/<name>_on_postgres.json")
    parser.add_argument("--data", type=Path, help="keep the indexed instance in this folder; if it already holds"
                                                    " one (of this corpus), evaluate it without indexing again")
    args = parser.parse_args()
    corpus = CORPORA[args.corpus]
    require_corpus(corpus)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        saved = data / "bench-corpus.json"
        if saved.exists():
            indexed, seconds = json.loads(saved.read_text()), None
            assert indexed["corpus"] == corpus.name, f"{data} holds the {indexed['corpus']} corpus"
        else:
            url = ""
            if args.backend == "postgres":  # indexed by a server on Postgres itself, not copied
                from tests.pg_support import fresh_database

                url = fresh_database()
            indexed, seconds = ingest_corpus(corpus, data, url)
            indexed["database_url"] = url
            saved.write_text(json.dumps({**indexed, "corpus": corpus.name, "seconds": round(seconds, 1)}))
        seconds = indexed.get("seconds", seconds) if seconds is None else seconds
        db_path = data / "modelpilot.db"
        name = "retrieval_eval" if corpus.name == "python" else f"retrieval_eval_{corpus.name}"
        if indexed.get("database_url"):
            from modelpilot.core.pg import PostgresDatabase

            scores = asyncio.run(evaluate(PostgresDatabase(indexed["database_url"]), corpus, indexed))
            results = {"corpus": corpus.name, "backend": "postgres", "questions": len(corpus.questions),
                       "pages": len(corpus.pages), "chunks": indexed["chunks"],
                       "crawl_and_index_seconds": round(seconds, 1), **scores}
            write_results(f"{name}_on_postgres", results)
            if not args.data:
                from tests.pg_support import drop_database

                drop_database(indexed["database_url"])
            return
        scores = asyncio.run(evaluate(SqliteDatabase(db_path), corpus, indexed))
        results = {"corpus": corpus.name, "questions": len(corpus.questions), "pages": len(corpus.pages),
                   "chunks": indexed["chunks"], "crawl_and_index_seconds": round(seconds, 1), **scores}
        write_results(name, results)  # SQLite's figures stand even if the Postgres copy fails
        if not args.sqlite_only:
            pg = results["postgres"] = postgres_scores(db_path, corpus, indexed)
            results["postgres_minus_sqlite"] = {
                lever: {mode: {at: round(pg["levers"][lever][mode][at] - scores["levers"][lever][mode][at], 3)
                               for at in ("recall@1", "recall@5")} for mode in MODES}
                for lever in LEVERS}
            print("Postgres - SQLite:", results["postgres_minus_sqlite"])
            write_results(name, results)


if __name__ == "__main__":
    main()
