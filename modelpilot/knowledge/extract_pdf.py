"""PDF text by page (pypdf), with page numbers kept for citations.

pypdf reads page content (the drawing instructions) at roughly a tenth of a megabyte a second,
so the decoded content of each page, and of the whole file, is measured before its text is
extracted: a 480 KB file whose 3,000 pages share one 1.5 MB content stream would otherwise take
hours. Content shared by several pages counts for each of them, because each is parsed again.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from modelpilot.knowledge.extracted import MAX_TEXT_CHARS, ExtractionError, Extracted, Section

MAX_PAGES = 3000
MAX_PAGE_CONTENT_BYTES = 4_000_000   # decoded content of one page; text pages use a few KB
MAX_CONTENT_BYTES = 64_000_000       # decoded content of all pages together
# pypdf logs a warning for every oddity in a malformed file; one bad upload must not flood the log.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def extract_pdf(data: bytes, title: str) -> Extracted:
    try:
        reader = _open(data)
        pdf_title = _metadata_title(reader)
        sections = list(_pages(reader))
    except ExtractionError:
        raise
    except LimitReachedError:
        raise ExtractionError("This PDF expands to more data than we process safely (a compression bomb?).",
                              "too_large") from None
    except FileNotDecryptedError:
        raise ExtractionError("This PDF is password-protected; upload an unlocked copy.", "encrypted") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise ExtractionError(f"This PDF is damaged and could not be read ({type(exc).__name__}).",
                              "corrupt") from None
    return Extracted(pdf_title or title, "pdf", sections)


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except PdfReadError as exc:
        raise ExtractionError(f"This PDF is damaged and could not be read ({exc}).", "corrupt") from None
    if reader.is_encrypted:
        # Many PDFs are "encrypted" with an empty user password (printing restrictions only).
        try:
            if not reader.decrypt(""):
                raise FileNotDecryptedError("password needed")
        except (FileNotDecryptedError, NotImplementedError, DependencyError):
            raise ExtractionError("This PDF is password-protected; upload an unlocked copy.", "encrypted") from None
    if len(reader.pages) > MAX_PAGES:
        raise ExtractionError(f"This PDF has more than {MAX_PAGES} pages; split it.", "too_long")
    return reader


def _metadata_title(reader: PdfReader) -> str:
    try:
        meta = reader.metadata
        return str(meta.title).strip() if meta and meta.title else ""
    except PyPdfError:
        return ""


def _content_size(page) -> int:
    """Bytes of the page's decoded content stream(s), without parsing their instructions."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    streams = contents if isinstance(contents, list) else [contents]
    return sum(len(stream.get_object().get_data()) for stream in streams if hasattr(stream.get_object(), "get_data"))


def _check_content(number: int, size: int, total: int) -> None:
    if size > MAX_PAGE_CONTENT_BYTES:
        raise ExtractionError(f"Page {number} of this PDF holds {size / 1e6:.1f} MB of drawing instructions, more "
                              f"than the {MAX_PAGE_CONTENT_BYTES / 1e6:g} MB per page we read; the file may be built "
                              "to be slow. Save it again (for example print it to a new PDF) or split it.", "too_large")
    if total > MAX_CONTENT_BYTES:
        raise ExtractionError(f"This PDF's pages hold more than {MAX_CONTENT_BYTES / 1e6:g} MB of drawing "
                              "instructions, more than we read; the file may be built to be slow. Save it again "
                              "(for example print it to a new PDF) or split it.", "too_large")


def _pages(reader: PdfReader):
    total = content_total = 0
    for number, page in enumerate(reader.pages, start=1):
        size = _content_size(page)
        content_total += size
        _check_content(number, size, content_total)
        text = page.extract_text() or ""
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise ExtractionError(f"This PDF holds more than {MAX_TEXT_CHARS:,} characters of text; split it.",
                                  "too_long")
        if text.strip():
            yield Section(text, None, number)

