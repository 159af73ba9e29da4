"""Knowledge documents: create from uploads, URLs, text and FAQ; list, show, reindex, delete; search.

Creating a document writes its row and a durable job in one transaction, then wakes the worker;
the heavy work happens in knowledge/ingest.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import urlsplit

import msgspec

from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import service as billing
from modelpilot.chatbots import service as bots
from modelpilot.core.db import Connection, Database, IntegrityError
from modelpilot.core.errors import ApiError, invalid, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.core.safe_http import FetchError, SafeFetcher, check_url, refusal_for
from modelpilot.knowledge import fields, repo
from modelpilot.knowledge.entities import Document
from modelpilot.knowledge.extract import UnsupportedType, sniff_type
from modelpilot.knowledge.reader import ReaderPool
from modelpilot.knowledge.schemas import DocumentPatchBody, FaqSourceBody, TextSourceBody, UrlSourceBody
from modelpilot.rag import retrieve as rag_retrieve
from modelpilot.rag import store
from modelpilot.scheduler import jobs
from modelpilot.scheduler.worker import JobWorker
from modelpilot.settings import Settings

INGEST_JOB = "knowledge.ingest"
# Told of every change to a bot's knowledge (a document indexed or deleted) inside the write
# transaction that makes it: (conn, workspace_id, chatbot_id). app.py wires evals' auto-runs here
# (evals asks knowledge, so knowledge cannot import evals).
KnowledgeChanged = Callable[[Connection, str, str], Awaitable[None]]
MAX_REFRESH_HOURS = 24 * 365


@dataclass
class Knowledge:
    """What the knowledge domain needs at run time; one per app, in app.state["knowledge"]."""
    db: Database
    settings: Settings
    fetcher: SafeFetcher
    worker: JobWorker
    reader: ReaderPool
    on_change: KnowledgeChanged | None = None


async def count_documents_in(conn: Connection, workspace_id: str) -> int:
    """For the plan's limits (billing asks through the app's wiring)."""
    return await repo.count_documents(conn, workspace_id)


async def _create(kb: Knowledge, access: WorkspaceAccess, bot_id: str, doc: dict) -> dict:
    access.require("editor")
    await bots.get_bot(kb.db, access.workspace_id, bot_id)  # 404 for another workspace's bot
    now = utc_now_iso()
    doc = {**doc, "id": new_id(), "chatbot_id": bot_id, "created_at": now, "updated_at": now}
    try:
        async with kb.db.write() as conn:
            # In the insert's transaction, so concurrent uploads cannot both pass the plan's limit.
            await billing.ensure_under_limit_in(conn, kb.settings, access.workspace_id, "documents",
                                                lambda c: repo.count_documents(c, access.workspace_id))
            await repo.insert_document(conn, access.workspace_id, doc)
            await jobs.enqueue(conn, access.workspace_id, INGEST_JOB, doc["id"], {"generation": 1, "force": True})
            row = await repo.get_document(conn, access.workspace_id, doc["id"])
    except IntegrityError:
        raise not_found("chatbot") from None  # deleted a moment ago
    kb.worker.wake()
    return row.public()


async def add_file(kb: Knowledge, access: WorkspaceAccess, bot_id: str, filename: str, data: bytes) -> dict:
    access.require("editor")
    if len(data) > kb.settings.max_upload_bytes:
        raise ApiError(413, "payload_too_large",
                       f"file: larger than the upload limit of {kb.settings.max_upload_bytes:,} bytes",
                       [{"field": "file", "message": "too large"}])
    if not data.strip():
        raise invalid("file", "the file is empty")
    try:
        content_type = sniff_type(data, filename)
    except UnsupportedType as exc:
        raise ApiError(415, "unsupported_media_type", f"file: {exc.message}",
                       [{"field": "file", "message": exc.message}]) from None
    name = (filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload")[:200]
    # The file name stays as the source; citations show a readable title (a PDF's own title
    # replaces it at first indexing, and editors can set another).
    return await _create(kb, access, bot_id, {"source_type": "file", "title": fields.readable_title(name), "source": name,
                                              "content_type": content_type, "body": data, "size_bytes": len(data)})


def _check_source_url(kb: Knowledge, url: str) -> str:
    url = url.strip()
    try:
        check_url(url)
    except FetchError as exc:
        raise invalid("url", exc.message) from None
    refusal = refusal_for(urlsplit(url).hostname or "")
    if refusal and not kb.settings.ingest_allow_private:
        raise invalid("url", f"{refusal}; an administrator can allow it with MODELPILOT_INGEST_ALLOW_PRIVATE=1")
    return url


async def add_url(kb: Knowledge, access: WorkspaceAccess, bot_id: str, body: UrlSourceBody) -> dict:
    access.require("editor")
    url = _check_source_url(kb, body.url)
    if not 1 <= body.max_pages <= kb.settings.crawl_max_pages:
        raise invalid("max_pages", f"must be between 1 and {kb.settings.crawl_max_pages}")
    if body.refresh_hours is not None and not 1 <= body.refresh_hours <= MAX_REFRESH_HOURS:
        raise invalid("refresh_hours", f"must be between 1 and {MAX_REFRESH_HOURS}")
    max_pages = 1 if body.mode == "page" else body.max_pages
    return await _create(kb, access, bot_id, {"source_type": "url", "title": url[:200], "source": url,
                                              "mode": body.mode, "max_pages": max_pages,
                                              "refresh_hours": body.refresh_hours})


async def add_text(kb: Knowledge, access: WorkspaceAccess, bot_id: str, body: TextSourceBody) -> dict:
    access.require("editor")
    title = fields.clean_title(body.title)
    data = fields.clean_text(body.text)
    return await _create(kb, access, bot_id, {"source_type": "text", "title": title, "content_type": "txt",
                                              "body": data, "size_bytes": len(data)})


async def add_faq(kb: Knowledge, access: WorkspaceAccess, bot_id: str, body: FaqSourceBody) -> dict:
    access.require("editor")
    items = fields.clean_faq_items(body.items)
    data = json.dumps(items).encode()
    # Visitors see this name in citations: "FAQ" on its own says nothing, so a set gets a real one.
    title = fields.clean_title(body.title) if body.title.strip() else fields.DEFAULT_FAQ_TITLE
    return await _create(kb, access, bot_id, {"source_type": "faq", "title": title, "content_type": "faq",
                                              "body": data, "size_bytes": len(data)})


async def list_documents(db: Database, access: WorkspaceAccess, bot_id: str) -> list[dict]:
    await bots.get_bot(db, access.workspace_id, bot_id)
    async with db.read() as conn:
        return [doc.public() for doc in await repo.list_documents(conn, access.workspace_id, bot_id)]


def _editable_content(doc: Document) -> dict:
    """What the edit form starts from: a text document's text, an FAQ set's pairs."""
    body = bytes(doc.body or b"")
    if doc.source_type == "text":
        return {"text": body.decode("utf-8", "replace")}
    if doc.source_type == "faq":
        return {"items": json.loads(body or b"[]")}
    return {}


async def get_document(db: Database, access: WorkspaceAccess, bot_id: str, doc_id: str, with_chunks: bool) -> dict:
    async with db.read() as conn:
        row = await repo.get_document(conn, access.workspace_id, doc_id, bot_id)
        if row is not None and row.source_type in ("text", "faq"):  # a file's bytes stay where they are
            row = await repo.get_document(conn, access.workspace_id, doc_id, bot_id, with_body=True)
        if row is None:
            raise not_found("document")
        out = {**row.public(), **_editable_content(row)}
        if with_chunks:
            out["chunks"] = [{k: c[k] for k in ("id", "ordinal", "kind", "title", "url", "page", "heading", "text",
                                                 "answer", "token_count")}
                             for c in await store.list_document_chunks(conn, access.workspace_id, doc_id)]
    return out


def _new_body(doc: Document, body: DocumentPatchBody) -> bytes | None:
    """The document's new stored content, or None when only its title changes."""
    if body.text is not msgspec.UNSET:
        if doc.source_type != "text":
            raise invalid("text", "only pasted-text documents have editable text; upload a new file instead")
        return fields.clean_text(body.text)
    if body.items is not msgspec.UNSET:
        if doc.source_type != "faq":
            raise invalid("items", "only FAQ documents have question/answer pairs")
        return json.dumps(fields.clean_faq_items(body.items)).encode()
    return None


async def update_document(kb: Knowledge, access: WorkspaceAccess, bot_id: str, doc_id: str,
                          body: DocumentPatchBody) -> dict:
    """Rename any document; replace a text document's text or an FAQ set's pairs and re-index it
    (the old chunks keep answering until the new ones replace them in one transaction)."""
    access.require("editor")
    if body.text is not msgspec.UNSET and body.items is not msgspec.UNSET:
        raise invalid("items", "send either text or items, not both")
    title = fields.clean_title(body.title) if body.title is not msgspec.UNSET else None
    async with kb.db.write() as conn:
        row = await repo.get_document(conn, access.workspace_id, doc_id, bot_id)
        if row is None:
            raise not_found("document")
        data = _new_body(row, body)
        await repo.update_document(conn, access.workspace_id, doc_id, title=title, body=data)
        if data is not None:
            # A rename alone re-indexes nothing: citations read the document's title when they are
            # made, and a big PDF should not spend minutes re-embedding for a new name.
            generation = await repo.bump_generation(conn, access.workspace_id, doc_id)
            await jobs.enqueue(conn, access.workspace_id, INGEST_JOB, doc_id, {"generation": generation, "force": True})
        row = await repo.get_document(conn, access.workspace_id, doc_id)
    kb.worker.wake()
    return row.public()


async def delete_document(kb: Knowledge, access: WorkspaceAccess, bot_id: str, doc_id: str) -> None:
    """Chunks, vectors and FTS rows go in this one transaction (triggers). Its job row goes too,
    which the worker takes as the order to cancel a running job (and kill its reader process)."""
    access.require("editor")
    async with kb.db.write() as conn:
        if await repo.get_document(conn, access.workspace_id, doc_id, bot_id) is None:
            raise not_found("document")
        await jobs.delete_for_ref(conn, access.workspace_id, doc_id)
        await repo.delete_document(conn, access.workspace_id, doc_id)
        if kb.on_change is not None:
            await kb.on_change(conn, access.workspace_id, bot_id)
    kb.worker.wake()


async def reindex_document(kb: Knowledge, access: WorkspaceAccess, bot_id: str, doc_id: str) -> dict:
    access.require("editor")
    async with kb.db.write() as conn:
        if await repo.get_document(conn, access.workspace_id, doc_id, bot_id) is None:
            raise not_found("document")
        generation = await repo.bump_generation(conn, access.workspace_id, doc_id)
        # A job still reading the old content is cancelled rather than left to finish for nothing.
        await jobs.delete_for_ref(conn, access.workspace_id, doc_id)
        await jobs.enqueue(conn, access.workspace_id, INGEST_JOB, doc_id, {"generation": generation, "force": True})
        row = await repo.get_document(conn, access.workspace_id, doc_id)
    kb.worker.wake()
    return row.public()


async def documents_pending_in(db: Database, workspace_id: str, bot_id: str) -> int:
    """How many of the bot's documents are still waiting to be indexed (queued or processing)."""
    async with db.read() as conn:
        return await repo.count_pending_documents(conn, workspace_id, bot_id)


_FLAGS = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True, "yes": True}


async def search(db: Database, access: WorkspaceAccess, bot_id: str, query: str, k: int | None,
                 explain: str = "") -> dict:
    """The bot's retrieval for a question, in its final rank order. With explain, each result also
    says how it got there (vector similarity and rank, keyword rank, fused score, threshold), and
    chunks that ranked among them but fall under the bot's threshold are listed, marked as not
    passed: the bot never sees those."""
    query = query.strip()
    if not query or len(query) > 2000:
        raise invalid("q", "must be 1 to 2000 characters")
    if k is not None and not 1 <= k <= rag_retrieve.MAX_TOP_K:
        raise invalid("k", f"must be between 1 and {rag_retrieve.MAX_TOP_K}")
    if explain.strip().lower() not in _FLAGS:
        raise invalid("explain", "must be 1 or 0")
    explaining = _FLAGS[explain.strip().lower()]
    bot = await bots.get_bot(db, access.workspace_id, bot_id)
    hits = await rag_retrieve.search(db, access.workspace_id, bot, query, top_k=k, explain=explaining)
    results = []
    for h in hits:
        result = {"chunk_id": h.chunk.chunk_id, "document_id": h.chunk.document_id, "title": h.chunk.title,
                  "text": h.chunk.text, "score": h.chunk.score, "url": h.chunk.url, "page": h.chunk.page,
                  "heading": h.chunk.heading, "kind": h.chunk.kind, "answer": h.chunk.answer,
                  "fused_score": round(h.fused, 5), "vector_rank": h.vector_rank, "keyword_rank": h.keyword_rank}
        if explaining:
            result.update({"vector_score": h.chunk.score, "passed_threshold": h.passed})
        results.append(result)
    return {"query": query, "top_k": k or bot.top_k, "score_threshold": bot.score_threshold,
            "per_page": rag_retrieve.PER_PAGE, "explain": explaining, "results": results}


async def purge_workspace(conn: Connection, workspace_id: str) -> None:
    """Before a workspace goes: drop all its knowledge so no vector outlives its tenant."""
    await store.delete_workspace_chunks(conn, workspace_id)
    await repo.delete_workspace_documents(conn, workspace_id)
