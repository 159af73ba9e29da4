"""Reading a document, bytes in and chunks out, in a reader process that can be killed.

Parsing is where a hostile or broken file costs unbounded time (a PDF whose pages share one huge
content stream, HTML nested a hundred thousand deep), so every extraction and chunking runs in a
child process (core/procpool.py) under a wall-clock budget, beside the work budgets each format
enforces (pages, content bytes, nesting depth, text size). The parent only embeds and writes:
the embedding model stays loaded once, in the server. Deleting the document kills its reader.

`read_document` runs in the child; `ReaderPool.read` is its parent side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from modelpilot.core.procpool import BudgetExceeded, ChildDied, ProcessPool
from modelpilot.knowledge.chunking import Chunk, chunk_sections
from modelpilot.knowledge.extract import ExtractionError, Extracted, extract_bytes

MAX_LINKS = 20_000  # links kept from one page for a site crawl (the crawl stops at max_pages anyway)
# What the reader processes import before their first document, so its budget is all parsing.
PRELOAD = ("modelpilot.knowledge.reader", "modelpilot.knowledge.extract_pdf", "modelpilot.knowledge.extract_html",
           "modelpilot.knowledge.extract_docx")
_LABELS = {"pdf": "PDF", "docx": "Word document", "html": "HTML page", "md": "Markdown file", "csv": "CSV file"}


@dataclass
class ReadResult:
    title: str
    content_hash: str
    chunks: list[Chunk]
    links: list[str]


def content_hash(extracted: Extracted) -> str:
    digest = hashlib.sha256(extracted.title.encode())
    for section in extracted.sections:
        digest.update(f"\x00{section.heading}\x00{section.page}\x00{section.text}".encode())
    return digest.hexdigest()


def page_links(data: bytes, base_url: str) -> list[str]:
    """Absolute links of an HTML page, fragments dropped (the crawler keeps the same-site ones)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(data.decode("utf-8", "replace"))
    links = []
    for anchor in tree.css("a[href]"):
        links.append(urldefrag(urljoin(base_url, (anchor.attributes.get("href") or "").strip()))[0])
        if len(links) >= MAX_LINKS:
            break
    return links


def read_document(data: bytes, content_type: str, title: str, url: str | None = None,
                  want_links: bool = False) -> ReadResult:
    """In the reader process: extract (with the format's limits), chunk, and find links."""
    try:
        extracted = extract_bytes(data, content_type, title, url)
    except MemoryError:
        raise ExtractionError(f"This {label(content_type)} needs more memory to read than we allow; split it.",
                              "too_large") from None
    chunks = chunk_sections(extracted.sections, extracted.title, url)
    # Links come after extraction, which has already refused markup nested too deep to parse.
    links = page_links(data, url) if want_links and url else []
    return ReadResult(extracted.title, content_hash(extracted), chunks, links)


def label(content_type: str) -> str:
    return _LABELS.get(content_type, "text")


def _advice(content_type: str) -> str:
    if content_type == "pdf":
        return "save it again (for example print it to a new PDF) or split it"
    return "simplify it or split it into smaller files"


class ReaderPool:
    """The server's reader processes: as many as ingestion jobs may run at once."""

    def __init__(self, size: int, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds
        self.processes = ProcessPool(size, budget_seconds, PRELOAD)

    async def read(self, data: bytes, content_type: str, title: str, url: str | None = None,
                   want_links: bool = False) -> ReadResult:
        """read_document in a reader process; over budget or crashed, an ExtractionError that says so."""
        try:
            return await self.processes.run(read_document, data, content_type, title, url, want_links)
        except BudgetExceeded as exc:
            raise ExtractionError(
                f"This {label(content_type)} took longer than {exc.seconds:g} s to read, so it was stopped. It may "
                f"be damaged or built to be slow: {_advice(content_type)}.", "too_slow") from None
        except ChildDied:
            raise ExtractionError(
                f"Reading this {label(content_type)} failed: the reader stopped unexpectedly (it may be damaged "
                f"or need too much memory): {_advice(content_type)}.", "reader_crashed") from None

    def reap_idle(self) -> int:
        return self.processes.reap_idle()

    async def close(self) -> None:
        await self.processes.close()
