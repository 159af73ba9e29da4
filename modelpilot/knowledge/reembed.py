"""Re-embedding a workspace after its embedding setting changed: a durable job on the ingestion
worker (`knowledge.reembed`, ref: the workspace, payload: the setting's version).

The chunks stay (their text, their full-text rows, their ids); only their vectors are made again,
BATCH at a time, each batch written with its chunks' new `embedding` mark in one transaction.
Progress is read from those marks (rag.store.count_embedded), so it is exact on every node.
Until the last chunk is done the vector half of search uses only chunks of the new embedding
(rag/retrieve.py). Done means: no chunk of another embedding is left and no ingestion job of the
workspace is queued or running (one that embedded with the old setting inserts old-model
chunks, which the next round picks up). A newer setting supersedes the job: its version no
longer matches, the worker's `wanted` check cancels it, and the new job starts from the marks.
One job per workspace runs at a time anywhere in a fleet (the queue never runs two jobs of one
ref at once), and after BATCHES_PER_TURN batches it yields its slot so the workspace's uploads
are not held up behind a long re-embedding.
"""

from __future__ import annotations

import logging

from modelpilot.core.db import Database
from modelpilot.core.ids import utc_now_iso
from modelpilot.knowledge import repo
from modelpilot.knowledge.embedding import storage_dim
from modelpilot.knowledge.ingest import embed_text_of
from modelpilot.knowledge.service import INGEST_JOB
from modelpilot.providers.errors import LLMError
from modelpilot.rag import embedder, store, workspace_embedding
from modelpilot.rag.workspace_embedding import WorkspaceEmbedding, embed_texts_with, setting_of
from modelpilot.scheduler import jobs
from modelpilot.scheduler.worker import RetryableError

log = logging.getLogger("modelpilot.reembed")
REEMBED_JOB = "knowledge.reembed"
BATCH = 64
BATCHES_PER_TURN = 16
MAX_FAILURES = 3            # provider failures in a row before the re-embedding is marked failed
WAIT_FOR_INGEST_SECONDS = 2.0
FAILURE_RETRY_SECONDS = 5.0  # times the failures so far
# Yielding re-queues the job: its attempts grow with the corpus, not with failures (counted apart).
MAX_ATTEMPTS = 1_000_000


def _text_of(row: dict) -> str:
    """What ingestion embedded for the chunk, from its row."""
    return embed_text_of(store.NewChunk(text=row["text"], title=row["title"], kind=row["kind"],
                                        heading=row["heading"]))


async def _setting(db: Database, job: dict) -> WorkspaceEmbedding | None:
    """The setting this job re-embeds to, or None once a newer one (or the end) replaced it."""
    async with db.read() as conn:
        setting = await setting_of(conn, job["workspace_id"])
    return setting if setting.version == job["payload"].get("version") and setting.state == "running" else None


async def still_wanted(db: Database, job: dict) -> bool:
    return await _setting(db, job) is not None


async def run_reembed_job(db: Database, job: dict) -> None:
    workspace_id = job["workspace_id"]
    for _ in range(BATCHES_PER_TURN):
        setting = await _setting(db, job)
        if setting is None:
            return  # superseded by a newer setting, or already finished
        async with db.read() as conn:
            rows = await store.chunks_not_embedded_with(conn, workspace_id, setting.identity, BATCH)
        if not rows:
            await _finish(db, workspace_id, setting)
            return
        try:
            vectors = await embed_texts_with(db, workspace_id, setting, [_text_of(row) for row in rows])
        except LLMError as exc:
            await _failed_attempt(db, workspace_id, setting, exc)
            return
        async with db.write() as conn:
            if (await setting_of(conn, workspace_id)).version != setting.version:
                return
            await store.replace_vectors(conn, workspace_id, setting.identity, rows, vectors)
            await workspace_embedding.clear_reembed_failures(conn, workspace_id, setting.version)
    raise RetryableError("re-embedding goes on after the workspace's other jobs", retry_in=0)


async def _finish(db: Database, workspace_id: str, setting: WorkspaceEmbedding) -> None:
    """Done, in one transaction with the check that nothing of another embedding is left."""
    name = setting.identity or embedder.model_info().name
    async with db.write() as conn:
        if (await setting_of(conn, workspace_id)).version != setting.version:
            return
        if await jobs.unfinished_count(conn, workspace_id, INGEST_JOB):
            pending = True
        else:
            pending = bool(await store.chunks_not_embedded_with(conn, workspace_id, setting.identity, 1))
            if not pending:
                await repo.set_embed_model(conn, workspace_id, name, storage_dim())
                await workspace_embedding.end_reembedding(conn, workspace_id, setting.version, "done", None,
                                                       utc_now_iso())
    if pending:
        raise RetryableError("waiting for the workspace's documents being indexed", retry_in=WAIT_FOR_INGEST_SECONDS)
    log.info("workspace %s re-embedded with %s", workspace_id, name)


async def _failed_attempt(db: Database, workspace_id: str, setting: WorkspaceEmbedding, exc: LLMError) -> None:
    message = f"The embedding provider failed: {exc.message}"
    async with db.write() as conn:
        failures = await workspace_embedding.count_reembed_failure(conn, workspace_id, setting.version, message)
        if failures >= MAX_FAILURES:
            await workspace_embedding.end_reembedding(conn, workspace_id, setting.version, "failed", message,
                                                   utc_now_iso())
    log.warning("re-embedding workspace %s: %s (failure %d)", workspace_id, message, failures)
    if failures < MAX_FAILURES:
        raise RetryableError(message, retry_in=FAILURE_RETRY_SECONDS * failures)


async def give_up_reembed(db: Database, job: dict, message: str) -> None:
    """An unexpected error: the re-embedding shows as failed (search keeps to the new model's chunks)."""
    async with db.write() as conn:
        await workspace_embedding.end_reembedding(conn, job["workspace_id"], job["payload"].get("version", 0),
                                               "failed", f"Re-embedding failed: {message}", utc_now_iso())
