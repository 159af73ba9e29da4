"""Turn uploaded or fetched bytes into titled sections of text, keeping what citations need.

The type is decided by the content (magic bytes, markup), the file name only breaks ties between
plain-text flavours. Every format has limits so a hostile file costs bounded time and memory.
"""

from __future__ import annotations

import csv
import io
import re

from charset_normalizer import from_bytes

# The types live in extracted.py, which the per-format modules import without importing this
# dispatcher (which imports them): importers keep taking them from here.
from modelpilot.knowledge.extracted import MAX_TEXT_CHARS, ExtractionError, Extracted, Section, UnsupportedType

MAX_CSV_ROWS = 50_000
SNIFF_BYTES = 4096
_HTML_HINT = re.compile(rb"<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]", re.I)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF",
                 b"MZ", b"RIFF", b"\x00\x00\x01\x00", b"ID3", b"OggS", b"%!PS")


def sniff_type(data: bytes, filename: str = "") -> str:
    """One of pdf, docx, html, md, csv, txt; raises UnsupportedType for anything else."""
    head = data[:SNIFF_BYTES]
    name = filename.lower()
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:65536]:
            return "docx"
        raise UnsupportedType("ZIP archives other than Word documents (.docx) are not supported.")
    if head.startswith(_BINARY_MAGIC) or not _looks_like_text(head):
        raise UnsupportedType("Unsupported file type: upload PDF, DOCX, HTML, Markdown, CSV or plain text.")
    if _HTML_HINT.search(head) or name.endswith((".html", ".htm")):
        return "html"
    if name.endswith((".md", ".markdown")):
        return "md"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    return "txt"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls <= len(head) // 100


def decode_text(data: bytes) -> str:
    """Bytes in any common encoding to str; UTF-8 first because detection can misfire on it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:1_000_000]).best()
    if best is None:
        raise ExtractionError("The text is in an encoding that could not be recognised; save it as UTF-8.")
    return data.decode(best.encoding, errors="replace")


def clean_text(text: str) -> str:
    """Normalise whitespace, keep paragraph breaks (blank lines) because the chunker uses them."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def extract_bytes(data: bytes, content_type: str, title: str, url: str | None = None) -> Extracted:
    """Dispatch by sniffed type; enforces the text cap and a non-empty result."""
    if not data.strip():
        raise ExtractionError("The file is empty.", "empty")
    if content_type == "pdf":
        from modelpilot.knowledge.extract_pdf import extract_pdf
        result = extract_pdf(data, title)
    elif content_type == "docx":
        from modelpilot.knowledge.extract_docx import extract_docx
        result = extract_docx(data, title)
    elif content_type == "html":
        from modelpilot.knowledge.extract_html import extract_html
        result = extract_html(decode_text(data), title, url)
    else:
        result = extract_plain(decode_text(data), content_type, title)
    result.sections = [s for s in (Section(clean_text(s.text), s.heading, s.page) for s in result.sections) if s.text]
    if not result.sections:
        raise ExtractionError(_EMPTY_MESSAGES.get(content_type, "No text could be found in this source."), "no_text")
    if result.char_count > MAX_TEXT_CHARS:
        raise ExtractionError(f"The text is longer than {MAX_TEXT_CHARS:,} characters; split it into smaller files.",
                              "too_long")
    result.url = result.url or url
    return result


_EMPTY_MESSAGES = {
    "pdf": "This PDF has no extractable text — is it a scan? Run it through OCR first.",
    "html": "This page has no readable text (it may be built by JavaScript or be only navigation).",
    "docx": "This Word document has no text.",
}


def extract_plain(text: str, content_type: str, title: str) -> Extracted:
    if content_type == "md":
        return Extracted(title, "md", _markdown_sections(text))
    if content_type == "csv":
        return Extracted(title, "csv", _csv_sections(text))
    return Extracted(title, content_type or "txt", [Section(text)])


def _markdown_sections(text: str) -> list[Section]:
    sections: list[Section] = []
    heading, lines, in_code = None, [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _MD_HEADING.match(line)
        if match:
            sections.append(Section("\n".join(lines), heading))
            heading, lines = match.group(2), []
        else:
            lines.append(line)
    sections.append(Section("\n".join(lines), heading))
    return sections


def _csv_sections(text: str) -> list[Section]:
    """Each row as 'column: value' lines, one paragraph per row, so a row stays together."""
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    header = next(rows, None) or []
    paragraphs = []
    for count, row in enumerate(rows):
        if count >= MAX_CSV_ROWS:
            raise ExtractionError(f"The CSV file has more than {MAX_CSV_ROWS:,} rows; split it.", "too_long")
        cells = [f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {v.strip()}"
                 for i, v in enumerate(row) if v.strip()]
        if cells:
            paragraphs.append("; ".join(cells))
    if not paragraphs and header:
        paragraphs.append("; ".join(header))
    return [Section("\n\n".join(paragraphs))]
