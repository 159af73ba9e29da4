"""A knowledge document as the rest of the code sees it: a typed, immutable row."""

from __future__ import annotations

import msgspec

# What the API shows of a document, in this order (the edit form's text or pairs come on top).
PUBLIC_FIELDS = ("id", "chatbot_id", "source_type", "title", "source", "content_type", "mode", "max_pages",
                 "refresh_hours", "size_bytes", "status", "progress", "chunk_count", "error", "embed_model",
                 "created_at", "updated_at", "indexed_at", "next_refresh_at")


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    chatbot_id: str
    source_type: str  # file, url, text or faq
    title: str
    source: str
    content_type: str
    mode: str | None  # a URL's crawl: page, site or sitemap
    max_pages: int | None
    refresh_hours: int | None
    size_bytes: int
    status: str  # queued, processing, indexed or error
    progress: float
    chunk_count: int
    error: str | None
    generation: int  # bumped by each re-index; a job of an older one drops its work
    embed_model: str | None
    embed_dim: int | None
    created_at: str
    updated_at: str
    indexed_at: str | None
    next_refresh_at: str | None
    body: bytes | None = None  # the stored content, only when read with_body

    @classmethod
    def from_row(cls, row: dict) -> Document:
        return cls(**row)

    def public(self) -> dict:
        return {name: getattr(self, name) for name in PUBLIC_FIELDS}
