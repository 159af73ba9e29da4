"""PDF text by page (pypdf), with page numbers kept for citations."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from modelpilot.knowledge.extract import MAX_TEXT_CHARS, ExtractionError, Extracted, Section

MAX_PAGES = 3000
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


def _pages(reader: PdfReader):
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text() or ""
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise ExtractionError(f"This PDF holds more than {MAX_TEXT_CHARS:,} characters of text; split it.",
                                  "too_long")
        if text.strip():
            yield Section(text, None, number)

