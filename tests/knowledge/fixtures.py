"""Test documents made in code (no binaries in the repository) and a tiny local web server."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def _pdf_object(number: int, body: bytes) -> bytes:
    return f"{number} 0 obj\n".encode() + body + b"\nendobj\n"


def _stream(content: bytes, compress: bool = False) -> bytes:
    if compress:
        content = zlib.compress(content, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")


def make_pdf(pages: list[str], *, title: str | None = None, raw_contents: list[bytes] | None = None,
             compress: bool = False) -> bytes:
    """A minimal valid PDF, one text line per page (or raw content streams)."""
    contents = raw_contents or [b"BT /F1 12 Tf 72 720 Td (" + _escape(text) + b") Tj ET" for text in pages]
    count = len(contents)
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, content in enumerate(contents):
        content_ref = first_page + 2 * i + 1
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_ref} 0 R"
                       " /Resources << /Font << /F1 3 0 R >> >> >>".encode())
        objects.append(_stream(content, compress))
    info = None
    if title:
        objects.append(b"<< /Title (" + _escape(title) + b") >>")
        info = len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += _pdf_object(number, body)
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypted_pdf(text: str, password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([text]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_only_pdf() -> bytes:
    """Pages that draw shapes and no text, like a scan."""
    return make_pdf([], raw_contents=[b"0 0 m 400 400 l S 10 10 200 200 re f"] * 2)


def pdf_bomb(expanded_bytes: int = 120_000_000) -> bytes:
    """A small PDF whose one content stream inflates far beyond any sane page."""
    return make_pdf([], raw_contents=[b" " * expanded_bytes], compress=True)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 b'wordprocessingml.document.main+xml"/></Types>')


def make_docx(paragraphs: list[tuple[str | None, str]]) -> bytes:
    """(style, text) paragraphs; style 'Heading1' makes a heading."""
    body = []
    for style, text in paragraphs:
        ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body.append(f"<w:p>{ppr}<w:r><w:t>{text}</w:t></w:r></w:p>")
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{W_NS}"><w:body>{"".join(body)}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", xml)
    return buffer.getvalue()


def docx_bomb(expanded_bytes: int = 60_000_000) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * 1_000_000
            for _ in range(expanded_bytes // len(block)):
                member.write(block)
    return buffer.getvalue()


# ---- a tiny web server on 127.0.0.1 ---------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], tuple[int, dict, bytes] | None]


class Site:
    """Serves a dict of path -> (status, headers, body) or callables; counts hits per path."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, object] = {}
        self.hits: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                site.hits[path] = site.hits.get(path, 0) + 1
                route = site.routes.get(path)
                if callable(route):
                    route = route(self)
                    if route is None:
                        return
                status, headers, body = route if route else (404, {"Content-Type": "text/plain"}, b"not found")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def html(self, path: str, body: str, status: int = 200) -> None:
        self.routes[path] = (status, {"Content-Type": "text/html; charset=utf-8"}, body.encode())

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location}, b"")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def never_answers(handler: BaseHTTPRequestHandler) -> None:
    """Holds the connection without a response until the client gives up."""
    time.sleep(5)
    return None


def shared_stream_pdf(pages: int = 3000, text_ops: int = 100_000) -> bytes:
    """~480 KB: every page draws the same compressed 1.5 MB content stream, which pypdf parses
    again for each page (10-20 s a page, hours in all): the slow upload of the hardening issue."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(ab) Tj 1 0 Td " * text_ops + b"ET"
    data = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{5 + i} 0 R' for i in range(pages))}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
                b" /Resources << /Font << /F1 3 0 R >> >> >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += _pdf_object(number, body)
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def deeply_nested_html(depth: int = 100_000) -> bytes:
    """~1.1 MB of <div>s inside each other: the parser's time grows with the square of the depth."""
    return (b"<!doctype html><html><head><title>Deep</title></head><body>" + b"<div>" * depth
            + b"<p>At the bottom of the well.</p>" + b"</div>" * depth + b"</body></html>")


def gone(pid: int) -> bool:
    """True once no process has this pid (a killed reader really went away)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
