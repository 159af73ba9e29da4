"""The knowledge seam: the chunks a bot should read before it answers a query.

Returns nothing until the knowledge index exists; chat calls it for every message either way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    document_id: str
    title: str
    text: str
    score: float
    url: str | None = None
    page: int | None = None
    heading: str | None = None
    kind: str = "text"          # "text" or "faq"
    answer: str | None = None   # for FAQ chunks: the answer alone


async def retrieve(db, workspace_id: str, bot: dict, query: str, *, top_k: int | None = None) -> list[RetrievedChunk]:
    return []
