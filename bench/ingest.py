"""Ingestion throughput: chunks embedded and stored per second through the whole pipeline (API
upload -> job -> extract -> chunk -> embed -> write), as a ratio to raw fastembed throughput on
the very same chunk texts in the same run; and /healthz latency while ingestion runs.

Corpus: a few pages of the Python docs (python3.11-doc), uploaded as HTML files.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import rss_mb, summary_ms, write_results  # noqa: E402
from _docs_site import require_corpus  # noqa: E402

PAGES = ["library/json.html", "library/csv.html", "library/heapq.html", "library/textwrap.html",
         "library/shlex.html", "library/bisect.html"]


def probe_health(url: str, stop: threading.Event, samples: list[float]) -> None:
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get("/healthz").raise_for_status()
            samples.append(time.perf_counter() - started)
            time.sleep(0.05)


def run_pipeline(data_dir: Path) -> tuple[dict, list[str]]:
    from modelpilot.core.db import connect_sync
    from modelpilot.knowledge.ingest import embed_text_of
    from modelpilot.rag import store
    from modelpilot.rag.embedder import get_embedder_sync
    from tests.knowledge.conftest import create_bot, wait_done
    from tests.support import Api, make_settings, start_server

    root = require_corpus()
    get_embedder_sync()  # loaded before timing: both sides measure embedding, not start-up
    live = start_server(make_settings(data_dir))
    api = Api(live.url)
    api.setup_owner()
    bot = create_bot(api)
    stop, health = threading.Event(), []
    prober = threading.Thread(target=probe_health, args=(live.url, stop, health), daemon=True)
    prober.start()
    started = time.perf_counter()
    ids = [api.ok("POST", f"/api/v1/workspaces/{api.ws}/chatbots/{bot}/documents", 202,
                  files={"file": (Path(p).name, (root / p).read_bytes())})["id"] for p in PAGES]
    docs = [wait_done(api, bot, doc_id, timeout=1800) for doc_id in ids]
    elapsed = time.perf_counter() - started
    stop.set()
    prober.join()
    rss = rss_mb()
    chunks = sum(d["chunk_count"] for d in docs)
    conn = connect_sync(live.settings.db_path)
    rows = conn.execute("SELECT kind, title, heading, text FROM chunks ORDER BY rowid").fetchall()
    conn.close()
    texts = [embed_text_of(store.NewChunk(text=r["text"], title=r["title"], kind=r["kind"], heading=r["heading"]))
             for r in rows]
    live.stop()
    api.close()
    return {"chunks": chunks, "pipeline_seconds": round(elapsed, 2), "pipeline_chunks_per_s": round(chunks / elapsed, 2),
            "healthz_during_ingest": summary_ms(health), "process_rss_mb": round(rss)}, texts


def raw_throughput(texts: list[str]) -> float:
    from modelpilot.rag.embedder import get_embedder_sync

    embedder = get_embedder_sync()
    started = time.perf_counter()
    for start in range(0, len(texts), 16):
        embedder.embed_sync(texts[start:start + 16])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results, texts = run_pipeline(Path(tmp))
    raw = raw_throughput(texts)
    results["raw_fastembed_chunks_per_s"] = round(raw, 2)
    results["ratio_to_raw"] = round(results["pipeline_chunks_per_s"] / raw, 3)
    results["mean_chunk_chars"] = round(statistics.fmean(len(t) for t in texts))
    write_results("ingest", results)


if __name__ == "__main__":
    main()
