"""The ingestion job: extract, chunk, embed and index one document (or re-crawl a URL source).

Writes are checked against the document's generation inside the same transaction, so a document
deleted or re-queued mid-job is never resurrected or doubled: the stale job just stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from modelpilot.core.db import Database
from modelpilot.core.ids import iso_from_epoch
from modelpilot.core.safe_http import FetchError, SafeFetcher
from modelpilot.knowledge import repo
from modelpilot.knowledge.chunking import Chunk, embed_prefix
from modelpilot.knowledge.crawler import CrawledPage, PageFailure, crawl
from modelpilot.knowledge.embedding import embed_chunks_by_provider, embedding_info, provider_setting
from modelpilot.knowledge.entities import Document
from modelpilot.knowledge.extract import ExtractionError
from modelpilot.knowledge.reader import ReaderPool
from modelpilot.knowledge.service import KnowledgeChanged
from modelpilot.rag import store
from modelpilot.rag.embedder import embed_knowledge, model_info
from modelpilot.scheduler.worker import RetryableError
from modelpilot.webhooks import service as webhooks
from modelpilot.webhooks.events import document_data

log = logging.getLogger("modelpilot.ingest")
EMBED_BATCH = 16  # chunks per trip to the embedding thread: progress moves, queries interleave


class Superseded(Exception):
    """The document was deleted or re-queued while this job ran."""


@dataclass
class Target:
    workspace_id: str
    document_id: str
    chatbot_id: str
    generation: int


async def _still_current(conn, target: Target) -> None:
    doc = await repo.get_document(conn, target.workspace_id, target.document_id)
    if doc is None or doc.generation != target.generation:
        raise Superseded()


async def _progress(db: Database, target: Target, value: float) -> None:
    async with db.write() as conn:
        await _still_current(conn, target)
        await repo.set_progress(conn, target.workspace_id, target.document_id, value)


def faq_chunks(items: list[dict], title: str) -> list[store.NewChunk]:
    return [store.NewChunk(text=f"Q: {i['question']}\nA: {i['answer']}", title=title, kind="faq",
                           heading=i["question"][:300], answer=i["answer"]) for i in items]


def text_chunks(chunks: list[Chunk], title: str, url: str | None = None) -> list[store.NewChunk]:
    return [store.NewChunk(text=c.text, title=title, url=url or c.url, page=c.page, heading=c.heading,
                           token_count=c.token_count) for c in chunks]


def embed_text_of(chunk: store.NewChunk) -> str:
    """Exactly what the chunker budgeted for: its (token-capped) title/heading prefix, then the text."""
    return embed_prefix(chunk.title, chunk.heading) + chunk.text if chunk.kind == "text" else chunk.text


async def embed_chunks(db: Database, target: Target, chunks: list[store.NewChunk],
                       span: tuple[float, float] = (0.1, 0.95)):
    """Vectors for all chunks, in batches, reporting progress across `span`."""
    import numpy as np

    by_provider = await provider_setting(db, target.workspace_id)  # the workspace's opt-in embedding
    if by_provider is not None:
        return await embed_chunks_by_provider(db, target.workspace_id, by_provider, chunks, embed_text_of,
                                              lambda value: _progress(db, target, value), span)

    def embedding(start: int) -> asyncio.Future | None:
        if start >= len(chunks):
            return None
        texts = [embed_text_of(c) for c in chunks[start:start + EMBED_BATCH]]
        return asyncio.ensure_future(embed_knowledge(texts, db.foreground))

    # The next batch is queued while this one finishes and its progress is written, so the
    # knowledge threads never wait between batches; no more than that, so another document
    # indexing at the same time gets its turn on them.
    parts, inflight = [], [embedding(0)]
    try:
        for start in range(0, len(chunks), EMBED_BATCH):
            inflight.append(embedding(start + EMBED_BATCH))
            parts.append(await inflight.pop(0))
            done = min(len(chunks), start + EMBED_BATCH) / max(len(chunks), 1)
            await _progress(db, target, span[0] + (span[1] - span[0]) * done)
    finally:
        for future in inflight:
            if future is not None:
                future.cancel()
    return np.concatenate(parts) if parts else np.zeros((0, model_info().dim), dtype=np.float32)


async def _replace_chunks(db: Database, target: Target, chunks, vectors, url: str | None = None,
                          page_hash: str | None = None, page_title: str = "") -> None:
    async with db.write() as conn:
        await _still_current(conn, target)
        await store.delete_document_chunks(conn, target.workspace_id, target.document_id, url)
        await store.insert_chunks(conn, target.workspace_id, target.chatbot_id, target.document_id, chunks, vectors)
        if url is not None and page_hash is not None:
            await repo.upsert_page(conn, target.workspace_id, target.document_id, url, page_title, page_hash)


def _next_refresh(doc: Document) -> str | None:
    hours = doc.refresh_hours
    return iso_from_epoch(time.time() + hours * 3600) if hours else None


async def _finish(db: Database, target: Target, doc: Document, title: str | None,
                  on_change: KnowledgeChanged | None = None) -> None:
    info = model_info()
    async with db.write() as conn:
        await _still_current(conn, target)
        info = await embedding_info(conn, target.workspace_id, info)  # a provider's, if the workspace chose one
        count = await store.count_document_chunks(conn, target.workspace_id, target.document_id)
        await repo.mark_indexed(conn, target.workspace_id, target.document_id, title=title, chunk_count=count,
                                model=info.name, dim=info.dim, next_refresh_at=_next_refresh(doc))
        queued = await _queue_document_event(conn, target.workspace_id, target.document_id, "document.indexed")
        if on_change is not None:
            await on_change(conn, target.workspace_id, target.chatbot_id)
    if queued:
        webhooks.wake(db)


async def _queue_document_event(conn, workspace_id: str, document_id: str, event_type: str) -> int:
    """document.indexed / document.failed in the transaction that set the document's state."""
    doc = await repo.get_document(conn, workspace_id, document_id)
    return 0 if doc is None else await webhooks.queue_event(conn, workspace_id, event_type, document_data(doc.public()))


async def _ingest_stored(db: Database, reader: ReaderPool, target: Target, doc: Document) -> str | None:
    """Uploaded file, text or FAQ: the bytes are in the row."""
    body = bytes(doc.body or b"")
    if doc.source_type == "faq":
        chunks, title = faq_chunks(json.loads(body), doc.title), None
    else:
        read = await reader.read(body, doc.content_type, doc.title)
        chunks = text_chunks(read.chunks, read.title)
        title = read.title if doc.source_type == "file" else None
    await _progress(db, target, 0.1)
    vectors = await embed_chunks(db, target, chunks)
    await _replace_chunks(db, target, chunks, vectors)
    return title


async def _index_page(db: Database, target: Target, page: CrawledPage, known: dict[str, str], force: bool,
                      span: tuple[float, float]) -> bool:
    """Embed and store one crawled page unless its text is unchanged; True when it was (re)indexed."""
    if not force and known.get(page.url) == page.content_hash:
        return False
    chunks = text_chunks(page.read.chunks, page.read.title, page.url)
    vectors = await embed_chunks(db, target, chunks, span)
    await _replace_chunks(db, target, chunks, vectors, page.url, page.content_hash, page.read.title)
    return True


async def _drop_vanished(db: Database, target: Target, vanished: set[str]) -> None:
    async with db.write() as conn:
        await _still_current(conn, target)
        for url in vanished:
            await store.delete_document_chunks(conn, target.workspace_id, target.document_id, url)
            await repo.delete_page(conn, target.workspace_id, target.document_id, url)


async def _ingest_url(db: Database, fetcher: SafeFetcher, reader: ReaderPool, target: Target, doc: Document,
                      force: bool) -> str | None:
    async with db.read() as conn:
        known = await repo.page_hashes(conn, target.workspace_id, target.document_id)
    limit = doc.max_pages or 1
    seen: set[str] = set()
    failures: list[PageFailure] = []
    first_title = None
    async for item in crawl(fetcher, reader.read, doc.source, doc.mode or "page", limit):
        if isinstance(item, PageFailure):
            failures.append(item)
            continue
        if item.url in seen:
            continue  # two links that redirect to one page
        seen.add(item.url)
        first_title = first_title or item.read.title
        done = len(seen) / limit
        await _index_page(db, target, item, known, force, (0.05 + 0.9 * (done - 1 / limit), 0.05 + 0.9 * done))
        await _progress(db, target, 0.05 + 0.9 * done)
    if not seen:
        first = failures[0] if failures else None
        if first is not None and first.transient:
            raise RetryableError(first.message)
        raise ExtractionError(first.message if first else "No pages could be read from this address.", "no_pages")
    await _drop_vanished(db, target, set(known) - seen)
    return first_title if doc.mode == "page" else None


async def run_ingest_job(db: Database, fetcher: SafeFetcher, reader: ReaderPool, job: dict,
                         on_change: KnowledgeChanged | None = None) -> None:
    """The worker's handler for knowledge.ingest jobs; on_change hears of the document indexed."""
    async with db.read() as conn:
        doc = await repo.get_document(conn, job["workspace_id"], job["ref_id"], with_body=True)
    generation = job["payload"].get("generation", 1)
    if doc is None or doc.generation != generation:
        return  # deleted, or a newer job for this document exists
    target = Target(job["workspace_id"], doc.id, doc.chatbot_id, generation)
    # A refresh of an indexed document keeps it searchable (and 'indexed') while it runs.
    visible_status = "indexed" if (not job["payload"].get("force") and doc.status == "indexed") else "processing"
    async with db.write() as conn:
        await repo.set_state(conn, target.workspace_id, doc.id, status=visible_status, progress=0.0)
    try:
        if doc.source_type == "url":
            title = await _ingest_url(db, fetcher, reader, target, doc, bool(job["payload"].get("force")))
        else:
            title = await _ingest_stored(db, reader, target, doc)
        await _finish(db, target, doc, title, on_change)
    except Superseded:
        log.info("document %s changed while indexing; dropped stale work", doc.id)
    except (ExtractionError, FetchError) as exc:
        if isinstance(exc, FetchError) and exc.transient:
            await _mark(db, target, "queued", f"{exc.message} — retrying shortly")
            raise RetryableError(exc.message) from None
        await _mark(db, target, "error", exc.message, doc)
    except RetryableError as exc:
        await _mark(db, target, "queued", f"{exc} — retrying shortly")
        raise


async def _mark(db: Database, target: Target, status: str, message: str, doc: Document | None = None) -> None:
    async with db.write() as conn:
        current = await repo.get_document(conn, target.workspace_id, target.document_id)
        if current is None or current.generation != target.generation:
            return
        await repo.set_state(conn, target.workspace_id, target.document_id, status=status, error=message)
        queued = 0
        if doc is not None and status == "error":
            await repo.set_next_refresh(conn, target.workspace_id, target.document_id, _next_refresh(doc))
            queued = await _queue_document_event(conn, target.workspace_id, target.document_id, "document.failed")
    if queued:
        webhooks.wake(db)


async def still_wanted(db: Database, job: dict) -> bool:
    """The document still exists at the job's generation (a bot's deletion removes its documents
    by cascade, leaving the job row behind: only this check notices)."""
    async with db.read() as conn:
        doc = await repo.get_document(conn, job["workspace_id"], job["ref_id"])
    return doc is not None and doc.generation == job["payload"].get("generation", 1)


async def give_up_ingest(db: Database, job: dict, message: str) -> None:
    """After the last retry (or an unexpected error): the document shows the reason."""
    queued = 0
    async with db.write() as conn:
        doc = await repo.get_document(conn, job["workspace_id"], job["ref_id"])
        if doc is not None and doc.generation == job["payload"].get("generation", 1):
            await repo.set_state(conn, job["workspace_id"], job["ref_id"], status="error",
                                 error=f"Indexing failed: {message}")
            await repo.set_next_refresh(conn, job["workspace_id"], job["ref_id"], _next_refresh(doc))
            queued = await _queue_document_event(conn, job["workspace_id"], job["ref_id"], "document.failed")
    if queued:
        webhooks.wake(db)
