"""Request bodies of the knowledge routes."""

from __future__ import annotations

from typing import Literal

import msgspec


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
    title: str = "FAQ"
