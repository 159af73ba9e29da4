"""Request bodies of the knowledge routes."""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType


class UrlSourceBody(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    mode: Literal["page", "sitemap", "site"] = "page"
    max_pages: int = 50
    refresh_hours: int | None = None


class TextSourceBody(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    text: str


class FaqItem(msgspec.Struct, forbid_unknown_fields=True):
    question: str
    answer: str


class FaqSourceBody(msgspec.Struct, forbid_unknown_fields=True):
    items: list[FaqItem]
    title: str = ""


class DocumentPatchBody(msgspec.Struct, forbid_unknown_fields=True):
    """Edit a document: any source's title; a text document's text; an FAQ set's pairs."""
    title: str | UnsetType = UNSET
    text: str | UnsetType = UNSET
    items: list[FaqItem] | UnsetType = UNSET


class EmbeddingBody(msgspec.Struct, forbid_unknown_fields=True):
    """A workspace's embedding: {"mode": "builtin"} or {"mode": "provider", "provider", "model"}."""
    mode: str
    provider: str | None = None
    model: str | None = None
