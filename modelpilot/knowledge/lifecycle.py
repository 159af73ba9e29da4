"""Start-up and shutdown of the knowledge machinery: worker, refresh schedule, model check."""

from __future__ import annotations

import logging

from modelpilot.core.db import Database
from modelpilot.core.ids import utc_now_iso
from modelpilot.core.safe_http import SafeFetcher
from modelpilot.knowledge import ingest, reembed, repo
from modelpilot.knowledge.embedding import ProviderEmbeddings
from modelpilot.knowledge.reader import ReaderPool
from modelpilot.knowledge.service import INGEST_JOB, Knowledge, KnowledgeChanged
from modelpilot.rag import embedder, store, vector_cache, workspace_embedding
from modelpilot.scheduler import jobs
from modelpilot.scheduler.lifecycle import Scheduler
from modelpilot.scheduler.worker import JobWorker
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.knowledge")
REFRESH_CHECK_SECONDS = 60
READER_REAP_SECONDS = 60


def make_fetcher(settings: Settings) -> SafeFetcher:
    return SafeFetcher(allow_private=settings.ingest_allow_private, max_bytes=settings.max_fetch_bytes,
                       timeout_seconds=float(settings.fetch_timeout_seconds))


async def queue_due_refreshes(kb: Knowledge) -> int:
    """Queue a re-crawl for every URL source whose refresh time has come."""
    async with kb.db.write() as conn:
        due = await repo.due_refreshes(conn, utc_now_iso())
        for doc in due:
            await repo.set_next_refresh(conn, doc["workspace_id"], doc["id"], None)
            current = await repo.get_document(conn, doc["workspace_id"], doc["id"])
            await jobs.enqueue(conn, doc["workspace_id"], INGEST_JOB, doc["id"],
                               {"generation": current.generation, "force": False})
    if due:
        kb.worker.wake()
    return len(due)


async def requeue_orphans(db: Database) -> int:
    """A document must never stay queued or processing with nothing left to move it on."""
    async with db.write() as conn:
        orphans = await repo.unfinished_without_job(conn)
        for doc in orphans:
            await jobs.enqueue(conn, doc["workspace_id"], INGEST_JOB, doc["id"],
                               {"generation": doc["generation"], "force": True})
    if orphans:
        log.warning("re-queued %d document(s) that had no job", len(orphans))
    return len(orphans)


async def check_embedding_model(db: Database) -> None:
    """Vectors of different models must not mix: on a model change, re-embed every document."""
    info = embedder.model_info()
    async with db.write() as conn:
        row = await store.embedding_index(conn)
        if row is not None and (row["model"], row["dim"]) == (info.name, info.dim):
            return
        if row is not None:
            log.warning("embedding model changed from %s to %s: re-embedding all documents", row["model"], info.name)
            await store.delete_all_chunks(conn)
            if row["dim"] != info.dim:
                await store.recreate_vector_table(conn, info.dim)
            for doc in await repo.all_document_keys(conn):
                generation = await repo.bump_generation(conn, doc["workspace_id"], doc["id"])
                await jobs.enqueue(conn, doc["workspace_id"], INGEST_JOB, doc["id"],
                                   {"generation": generation, "force": True})
        await store.set_embedding_index(conn, info.name, info.dim, utc_now_iso())


async def start_knowledge(db: Database, settings: Settings, scheduler: Scheduler, worker: JobWorker,
                          on_change: KnowledgeChanged | None = None) -> Knowledge:
    """on_change: told of each document indexed or deleted, in that change's transaction (app.py)."""
    model = embedder.BUILTIN_MODEL if settings.embedding_model == "builtin" else settings.embedding_model
    embedder.configure(model)
    embedder.configure_ingest_threads(settings.ingest_embed_threads)
    vector_cache.CACHE.configure(settings.vector_cache_mb)
    await check_embedding_model(db)
    await requeue_orphans(db)
    reader = ReaderPool(settings.ingest_concurrency, settings.ingest_read_seconds)
    kb = Knowledge(db=db, settings=settings, fetcher=make_fetcher(settings), worker=worker, reader=reader,
                   on_change=on_change)

    async def handle(db_: Database, job: dict) -> None:
        await ingest.run_ingest_job(db_, kb.fetcher, kb.reader, job, kb.on_change)

    async def reap_readers() -> None:
        reader.reap_idle()

    worker.register(INGEST_JOB, handle, ingest.give_up_ingest, ingest.still_wanted)
    # Workspaces that opted into a provider's embeddings reach it through providers (rag imports no domain).
    workspace_embedding.use_provider_embedder(db, ProviderEmbeddings(db, settings))
    worker.register(reembed.REEMBED_JOB, reembed.run_reembed_job, reembed.give_up_reembed, reembed.still_wanted,
                    max_attempts=reembed.MAX_ATTEMPTS)
    scheduler.add_interval_job("knowledge.refresh", lambda: queue_due_refreshes(kb), REFRESH_CHECK_SECONDS,
                               once_per_fleet=True)
    # Reader processes are started on demand and stopped when idle: their memory is not kept.
    scheduler.add_interval_job("knowledge.reap_readers", reap_readers, READER_REAP_SECONDS)
    embedder.warm_up_in_background()
    return kb


async def stop_knowledge(kb: Knowledge) -> None:
    """After the worker has stopped: no reader process outlives the server."""
    await kb.reader.close()
