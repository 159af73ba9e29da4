"""Retrieval quality on a real documentation corpus: Recall@1 and Recall@5 of vector-only,
keyword-only and hybrid search.

The Python 3.11 docs (python3.11-doc) are served over 127.0.0.1 and crawled like a site by the real
server (site mode from a start page that links the module pages below). Each question is written
in our own words, with the page that answers it; a question counts as found at k when a chunk of
that page is among the first k results. Twenty more pages that no question is about, picked to be
confusable with the answers, make the haystack harder.

The corpus is indexed once, on SQLite; `modelpilot copy-db`'s copy then puts the very same chunks
and vectors into Postgres (MP_BENCH_DATABASE_URL, an empty database, or else a fresh one on the
tests' embedded Postgres), and the same questions run on both: Postgres's Recall@k minus SQLite's
is printed (issue 16: within 0.01). `--sqlite-only` skips Postgres.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402
from _docs_site import DocsSite, require_corpus  # noqa: E402

QUESTIONS = [
    ("How do I turn a Python dictionary into a JSON string?", "json"),
    ("Which class represents a filesystem path and has methods like glob and read_text?", "pathlib"),
    ("How can I find every non-overlapping match of a regular expression in a string?", "re"),
    ("How do I format a date as text using strftime codes?", "datetime"),
    ("Which container counts hashable items, like a multiset?", "collections"),
    ("How do I get all combinations of r elements from an iterable?", "itertools"),
    ("How can I memoize the results of an expensive function?", "functools"),
    ("How do I parse command-line options and positional arguments in a script?", "argparse"),
    ("How do I emit log messages at different severity levels like warning and error?", "logging"),
    ("How do I run an external program and capture what it prints?", "subprocess"),
    ("How do I copy a whole directory tree recursively?", "shutil"),
    ("How do I read rows of a comma-separated file as dictionaries keyed by the header?", "csv"),
    ("How do I open a connection to an SQLite database file and run SQL?", "sqlite3"),
    ("How do I shuffle a list in place at random?", "random"),
    ("How do I compute the median of some numbers?", "statistics"),
    ("Which function gives the greatest common divisor of integers?", "math"),
    ("How do I pause execution for a number of seconds?", "time"),
    ("How do I compute a SHA-256 digest of some bytes?", "hashlib"),
    ("How should I generate a hard-to-guess token for a password reset link?", "secrets"),
    ("How do I make a random universally unique identifier?", "uuid"),
    ("How do I read and write ZIP archives?", "zipfile"),
    ("How do I create a temporary directory that is cleaned up automatically?", "tempfile"),
    ("How do I list file names that match a shell-style wildcard pattern like *.txt?", "glob"),
    ("Which module implements a priority queue on top of a binary heap?", "heapq"),
    ("How do I insert an item into a sorted list and keep it sorted?", "bisect"),
    ("How do I define a set of symbolic names bound to unique constant values?", "enum"),
    ("Which decorator adds __init__ and __repr__ to a class generated from its fields?", "dataclasses"),
    ("How do I wrap a long paragraph so every line fits a given width?", "textwrap"),
    ("How do I split a URL into scheme, network location and path?", "urllib.parse"),
    ("How do I protect shared data with a mutual exclusion lock between threads?", "threading"),
    ("Which class gives a thread-safe FIFO for producers and consumers?", "queue"),
    ("What is the difference between a shallow copy and a deep copy of an object?", "copy"),
    ("How do I serialize a Python object to bytes and load it back later?", "pickle"),
    ("How do I encode binary data as base64 text?", "base64"),
    ("How do I pack integers into bytes with a chosen byte order?", "struct"),
    ("How do I do exact decimal arithmetic for money without floating-point rounding errors?", "decimal"),
    ("How do I represent a rational number such as one third exactly?", "fractions"),
    ("How do I print a plain-text calendar for one month?", "calendar"),
    ("How can I compare two lists of lines and show what changed between them?", "difflib"),
    ("How do I check whether a path refers to an existing regular file?", "os.path"),
    ("Which class substitutes $name placeholders in a template string?", "string"),
    ("How do I compress a file with gzip from Python code?", "gzip"),
    ("How do I measure how long a small snippet of code takes to run?", "timeit"),
    ("How do I print nested data structures in a readable, indented layout?", "pprint"),
    ("How do I split a string into words the way a Unix shell would, respecting quotes?", "shlex"),
]
# Pages no question is about, chosen to be easy to confuse with the answers (optparse and getopt
# next to argparse, zlib/bz2/lzma next to gzip, shelve/marshal next to pickle, ...).
DISTRACTORS = ["optparse", "getopt", "zlib", "bz2", "lzma", "tarfile", "shelve", "marshal", "hmac", "array",
               "cmath", "operator", "contextlib", "filecmp", "fileinput", "configparser", "mimetypes", "binascii",
               "numbers", "sched"]
PAGES = list(dict.fromkeys([f"library/{module}.html" for _, module in QUESTIONS]
                           + [f"library/{module}.html" for module in DISTRACTORS]))
MODES = ("vector", "keyword", "hybrid")


def ingest_corpus(data_dir: Path) -> tuple[dict, float]:
    from tests.knowledge.conftest import create_bot, wait_done
    from tests.support import Api, make_settings, start_server

    site = DocsSite(PAGES)
    live = start_server(make_settings(data_dir, ingest_allow_private=True, crawl_max_pages=1000))
    try:
        api = Api(live.url)
        api.setup_owner()
        bot = create_bot(api, top_k=5)
        started = time.perf_counter()
        doc = api.ok("POST", f"/api/v1/workspaces/{api.ws}/chatbots/{bot}/documents/url", 202,
                     json={"url": f"{site.base}/bench-start.html", "mode": "site", "max_pages": len(PAGES) + 1})
        done = wait_done(api, bot, doc["id"], timeout=3600)
        elapsed = time.perf_counter() - started
        assert done["status"] == "indexed", done
        return {"workspace_id": api.ws, "bot": bot, "base": site.base, "chunks": done["chunk_count"]}, elapsed
    finally:
        live.stop()
        site.close()


async def evaluate(db, corpus: dict) -> dict:
    from modelpilot.rag.retrieve import search

    await db.open()
    bot = SimpleNamespace(id=corpus["bot"], top_k=5, score_threshold=0.0)  # what retrieval reads (BotScope)
    results = {}
    try:
        for mode in MODES:
            at1 = at5 = 0
            misses = []
            for question, module in QUESTIONS:
                expected = f"{corpus['base']}/library/{module}.html"
                hits = await search(db, corpus["workspace_id"], bot, question, top_k=5, mode=mode)
                urls = [h.chunk.url for h in hits]
                at1 += bool(urls[:1] == [expected])
                at5 += expected in urls
                if expected not in urls:
                    misses.append(module)
            n = len(QUESTIONS)
            results[mode] = {"recall@1": round(at1 / n, 3), "recall@5": round(at5 / n, 3), "missed@5": misses}
    finally:
        await db.close()
    return results


def postgres_scores(db_path: Path, corpus: dict) -> dict:
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
        return asyncio.run(evaluate(PostgresDatabase(url), corpus))
    finally:
        if ours:
            from tests.pg_support import drop_database

            drop_database(url)


def main() -> None:
    import tempfile

    from modelpilot.core.db import SqliteDatabase

    require_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, seconds = ingest_corpus(Path(tmp))
        db_path = Path(tmp) / "modelpilot.db"
        scores = asyncio.run(evaluate(SqliteDatabase(db_path), corpus))
        results = {"questions": len(QUESTIONS), "pages": len(PAGES), "chunks": corpus["chunks"],
                   "crawl_and_index_seconds": round(seconds, 1), **scores}
        if "--sqlite-only" not in sys.argv[1:]:
            pg = results["postgres"] = postgres_scores(db_path, corpus)
            results["postgres_minus_sqlite"] = {
                mode: {at: round(pg[mode][at] - scores[mode][at], 3) for at in ("recall@1", "recall@5")}
                for mode in MODES}
            print("Postgres - SQLite:", results["postgres_minus_sqlite"])
    write_results("retrieval_eval", results)


if __name__ == "__main__":
    main()
