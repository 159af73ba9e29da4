"""Helpers for the handoff and inbox tests: a help desk (owner, two agents, a viewer, a bot that
hands over) and a reader for live event streams over real HTTP."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support import Api
from tests.widget_support import HOST_PAGE_ORIGIN, SESSION, from_page, make_bot

HANDOFF = {"enabled": True, "keywords": ["human", "talk to someone", "echte person"]}


@dataclass
class Desk:
    url: str
    owner: Api
    anna: Api     # agent
    ben: Api      # agent
    viewer: Api
    bot: dict
    visitor: Api
    closers: list = field(default_factory=list)

    @property
    def ws(self) -> str:
        return self.owner.ws

    def conv(self, conversation_id: str, action: str = "") -> str:
        return f"/api/v1/workspaces/{self.ws}/conversations/{conversation_id}" + (f"/{action}" if action else "")

    def widget(self, action: str) -> str:
        return f"/api/v1/widget/{self.bot['id']}/{action}"

    def ask_for_person(self, session_id: str = SESSION, **extra: Any) -> dict:
        response = self.visitor.post(self.widget("handoff"), json={"session_id": session_id, **extra},
                                     headers=from_page())
        assert response.status_code == 200, response.text
        return response.json()

    def visitor_says(self, text: str, session_id: str = SESSION) -> list[dict]:
        response = self.visitor.post(self.widget("chat"), json={"session_id": session_id, "message": text},
                                     headers=from_page())
        assert response.status_code == 200, response.text
        return sse_data(response.text)

    def history(self, session_id: str = SESSION) -> dict:
        return self.visitor.ok("GET", self.widget("history"), params={"session_id": session_id},
                               headers=from_page())

    def inbox(self, who: Api | None = None, **params: str) -> dict:
        return (who or self.anna).ok("GET", f"/api/v1/workspaces/{self.ws}/inbox", params=params)

    def waiting_id(self) -> str:
        return self.inbox(status="waiting")["items"][0]["id"]

    def widget_stream(self, session_id: str = SESSION, last_event_id: int | None = None) -> "EventReader":
        headers = from_page()
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        reader = EventReader(self.url, self.widget("events"), params={"session_id": session_id}, headers=headers)
        self.closers.append(reader)
        return reader

    def inbox_stream(self, who: Api) -> "EventReader":
        reader = EventReader(self.url, f"/api/v1/workspaces/{self.ws}/events", cookies=who.cookies)
        self.closers.append(reader)
        return reader


def make_desk(live, fake_llm, **bot_fields: Any) -> Desk:
    owner, anna, ben, viewer, visitor = (Api(live.url) for _ in range(5))
    owner.setup_owner("owner@example.com", "Help desk")
    owner.invite_and_join(anna, "anna@example.com", "agent")
    owner.invite_and_join(ben, "ben@example.com", "agent")
    owner.invite_and_join(viewer, "vera@example.com", "viewer")
    for member in (anna, ben, viewer):
        member.workspaces = owner.workspaces
    bot = make_bot(owner, fake_llm, handoff={**HANDOFF, **bot_fields.pop("handoff", {})},
                   allowed_origins=[HOST_PAGE_ORIGIN], **bot_fields)
    return Desk(live.url, owner, anna, ben, viewer, bot, visitor)


def close_desk(desk: Desk) -> None:
    for reader in desk.closers:
        reader.close()
    for client in (desk.owner, desk.anna, desk.ben, desk.viewer, desk.visitor):
        client.close()


def sse_data(text: str) -> list[dict]:
    return [frame["data"] for frame in parse_frames(text) if "data" in frame]


def parse_frames(text: str) -> list[dict]:
    return [parse_block(block) for block in text.split("\n\n") if block.strip()]


def parse_block(block: str) -> dict:
    frame: dict[str, Any] = {}
    data = []
    for line in block.splitlines():
        if line.startswith(":"):
            frame["comment"] = line[1:].strip()
        elif line.startswith("id:"):
            frame["id"] = int(line[3:].strip())
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif line.startswith("retry:"):
            frame["retry"] = int(line[6:].strip())
    if data:
        frame["data"] = json.loads("\n".join(data))
    return frame


class EventReader:
    """An SSE stream read in a thread: `next()` gives the next frame with data (pings and the
    retry line are kept in `comments`)."""

    def __init__(self, base_url: str, path: str, **kwargs: Any) -> None:
        # The server pings every events_heartbeat_seconds (short in these tests), so a read always
        # returns soon and close() is noticed between chunks.
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30))
        self._frames: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.status: int | None = None
        self.opened = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, args=(path, kwargs), daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the event stream did not open"

    def _run(self, path: str, kwargs: dict) -> None:
        try:
            with self._client.stream("GET", path, **kwargs) as response:
                self.status = response.status_code
                self.headers = response.headers
                buffer = ""
                for chunk in response.iter_text():
                    if self._closing:
                        break
                    buffer += chunk
                    if self.status != 200 or "retry:" in buffer:
                        self.opened.set()
                    while "\n\n" in buffer:
                        block, buffer = buffer.split("\n\n", 1)
                        frame = parse_block(block)
                        if "data" in frame:
                            self._frames.put(frame)
                        else:
                            self.comments.append(frame.get("comment") or f"retry {frame.get('retry')}")
                if self.status != 200:
                    self.body = buffer
        except (httpx.HTTPError, RuntimeError):
            if not self._closing:
                raise
        finally:
            self.opened.set()

    def next(self, timeout: float = 10) -> dict:
        try:
            return self._frames.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s") from None

    def pending(self) -> list[dict]:
        frames = []
        while not self._frames.empty():
            frames.append(self._frames.get_nowait())
        return frames

    def close(self) -> None:
        self._closing = True
        self._thread.join(10)
        self._client.close()
