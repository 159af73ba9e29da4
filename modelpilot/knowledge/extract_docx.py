"""Word (.docx) text: paragraphs in order, Heading styles become section headings.

A .docx is a ZIP: member sizes are capped while reading (declared sizes can lie), and XML with a
DOCTYPE is refused, which rules out entity-expansion bombs.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from modelpilot.knowledge.extracted import ExtractionError, Extracted, Section

MAX_XML_BYTES = 30_000_000
MAX_RATIO = 200  # uncompressed / compressed; real documents stay far below
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_XML_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 1_000_000:
        raise ExtractionError("This document expands to far more data than it holds (a ZIP bomb?).", "too_large")
    with archive.open(info) as member:
        data = member.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise ExtractionError("This document expands to far more data than it holds (a ZIP bomb?).", "too_large")
    return data


def _parse_xml(data: bytes) -> ElementTree.Element:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise ExtractionError("This document contains XML features we refuse for safety (DTD/entities).", "corrupt")
    return ElementTree.fromstring(data)


def extract_docx(data: bytes, title: str) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            body = _read_member(archive, "word/document.xml")
            core = _read_member(archive, "docProps/core.xml")
            if body is None:
                raise ExtractionError("This ZIP file is not a Word document (no word/document.xml).", "corrupt")
            root = _parse_xml(body)
            doc_title = _core_title(core)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ElementTree.ParseError, EOFError, ValueError) as exc:
        raise ExtractionError(f"This Word document is damaged and could not be read ({type(exc).__name__}).",
                              "corrupt") from None
    return Extracted(doc_title or title, "docx", _sections(root))


def _core_title(core: bytes | None) -> str:
    if not core:
        return ""
    element = _parse_xml(core).find(DC_TITLE)
    return (element.text or "").strip() if element is not None else ""


def _sections(root: ElementTree.Element) -> list[Section]:
    sections: list[Section] = []
    heading, paragraphs = None, []
    for paragraph in root.iter(W + "p"):
        text = "".join(node.text or "" for node in paragraph.iter() if node.tag in (W + "t", W + "tab"))
        if not text.strip():
            continue
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        style_name = (style.get(W + "val") or "") if style is not None else ""
        if style_name.lower().startswith(("heading", "title")):
            sections.append(Section("\n\n".join(paragraphs), heading))
            heading, paragraphs = text.strip(), []
        else:
            paragraphs.append(text)
    sections.append(Section("\n\n".join(paragraphs), heading))
    return sections
