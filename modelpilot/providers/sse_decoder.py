"""Server-sent events read from a byte stream: each event's data, however the reads split it.

A read may end mid-line, mid-event or between the CR and LF of a line ending; the unfinished line waits
in a buffer for the next read. Several `data:` lines of one event are joined with a newline (the SSE
rule); comments (`:` lines, used as keep-alives) and the `event:`, `id:` and `retry:` fields carry
nothing an OpenAI-style stream needs and are skipped.
"""

from __future__ import annotations


class SSEDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []

    def feed(self, raw: bytes) -> list[bytes]:
        """The data of every event completed by this read, in order."""
        if b"\n" not in raw:
            self._buffer += raw
            return []
        lines = (self._buffer + raw).split(b"\n")
        self._buffer = lines.pop()
        events: list[bytes] = []
        for line in lines:
            self._take_line(line[:-1] if line.endswith(b"\r") else line, events)
        return events

    def close(self) -> list[bytes]:
        """At the end of the stream: a last event whose blank line never came still counts."""
        events: list[bytes] = []
        if self._buffer:
            self._take_line(self._buffer.rstrip(b"\r"), events)
            self._buffer = b""
        self._take_line(b"", events)
        return events

    def _take_line(self, line: bytes, events: list[bytes]) -> None:
        if not line:
            if self._data:
                events.append(b"\n".join(self._data))
                self._data = []
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
