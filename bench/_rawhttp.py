"""A lean HTTP/1.1 client for load benches: keep-alive connections over asyncio streams, no parsing
beyond the status line, the headers and the body's framing (Content-Length or chunked).

Why not httpx: driving 200 streaming conversations, one httpx process spent a whole core of its
own on parsing and bookkeeping and became the bottleneck of the measurement (ModelPilot's server
sat at half a core). A load generator must cost less than what it measures; this one costs a few
times less per reply, so the ratio it reports is the server's.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit


class Connection:
    """One keep-alive connection to one origin; reopened when the server closes it."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post_json(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, float, float, bytes]:
        """POST `body` as JSON to `path`; returns (status, seconds to the first body byte,
        seconds to the end, the body). A connection the server closed while idle is reopened once."""
        payload = json.dumps(body).encode()
        head = [f"POST {self.prefix}{path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Content-Type: application/json", f"Content-Length: {len(payload)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        for attempt in (0, 1):
            fresh = self.writer is None
            if fresh:
                await self._open()
            started = time.perf_counter()
            try:
                self.writer.write(request)
                return await self._response(started)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    async def _response(self, started: float) -> tuple[int, float, float, bytes]:
        reader = self.reader
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = None, False, False
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        first = None
        pieces = []
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                data = await reader.readexactly(size + 2)
                if first is None:
                    first = time.perf_counter() - started
                pieces.append(data[:-2])
        elif length:
            pieces.append(await reader.readexactly(length))
            first = time.perf_counter() - started
        elif length is None:
            pieces.append(await reader.read())
            first = time.perf_counter() - started
            close = True
        total = time.perf_counter() - started
        if close:
            self.close()
        return status, first if first is not None else total, total, b"".join(pieces)
