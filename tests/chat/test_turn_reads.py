"""A chat turn reads what it needs before the model in one trip to the database (chat.service.read_turn).

Each trip from the event loop to a connection's thread (and, on Postgres, through psycopg) costs
CPU on the one loop every chat shares: under 50 concurrent chats those trips were most of what a
turn added before its first byte. Counted here the way bench/db_hops.py counts them, on the
backend the suite runs on.
"""

from __future__ import annotations

import sys

import aiosqlite
import httpx
import pytest

from modelpilot.core import pg
from tests import pg_support
from tests.support import Api, parse_sse
from tests.widget_support import HOST_PAGE_ORIGIN, make_bot, sse_events, widget_chat

KEY = "sk-good-0123456789abcdefXYZ"


REQUEST_PATHS = tuple(f"/modelpilot/{part}/" for part in ("auth", "chat", "widget"))


def _for_a_request() -> bool:
    """Whether the current trip was asked for by a request's code (a chat, the widget, the caller's
    token), not by a background worker of the server (webhooks, the scheduler, live events)."""
    frame = sys._getframe(2)
    while frame is not None:
        if any(part in frame.f_code.co_filename for part in REQUEST_PATHS):
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def hops(monkeypatch) -> list[str]:
    """Every trip to a database connection's thread made for a request, by the function sent there."""
    seen: list[str] = []

    def note(fn) -> None:
        if _for_a_request():
            seen.append(getattr(fn, "__qualname__", repr(fn)))
    if pg_support.BACKEND == "postgres":
        original_call = pg.Connection.call

        async def counting_call(self, fn, *args):
            note(fn)
            return await original_call(self, fn, *args)
        monkeypatch.setattr(pg.Connection, "call", counting_call)
    else:
        original = aiosqlite.Connection._execute

        async def counting(self, fn, *args, **kwargs):
            note(fn)
            return await original(self, fn, *args, **kwargs)
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return seen


def test_a_turn_makes_four_trips_one_of_them_for_everything_read_before_the_model(owner: Api, server, fake_llm,
                                                                                    hops):
    owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "t", "role": "admin"})["token"]
    with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        def ask(text: str) -> list[dict]:
            response = client.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/chat",
                                   json={"message": text, "session_id": "s1"})
            assert response.status_code == 200, response.text
            return parse_sse(response.text)

        ask("warm up")  # the first turn creates the conversation
        hops.clear()
        events = ask("and a second question")
    assert events[-1].get("done") is True
    # The token, the bot, the turn's reads (handoff state, provider keys, billing account, the
    # session's history, the bot's search scope) and the saved turn. Before read_turn: eight.
    assert len(hops) == 4, hops
    assert sum("read_turn" in name for name in hops) == 1, hops


def test_a_widget_turn_makes_five_trips_six_on_postgres(owner: Api, api: Api, fake_llm, hops):
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    assert sse_events(widget_chat(api, bot["id"], "warm up"))[-1].get("done") is True
    hops.clear()
    assert sse_events(widget_chat(api, bot["id"], "and a second question"))[-1].get("done") is True
    # The published bot (its workspace, then the bot, in one read), the session's lead if any,
    # the daily cap (one atomic statement), the turn's reads and the saved turn. Before: twelve
    # (the bot in two reads, the cap in a write transaction of three trips, the turn's five reads). On Postgres the
    # per-address rate limit is kept in the database, shared by every node: one trip more.
    assert len(hops) == (6 if pg_support.BACKEND == "postgres" else 5), hops
    assert sum("bot_by_id_alone" in name for name in hops) == 1, hops


def test_history_read_with_the_turn_reaches_the_model(owner: Api, fake_llm):
    """The history comes from the one read: the model sees the earlier question and answer."""
    owner.add_provider(owner.ws, "openai", KEY, fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    owner.chat(owner.ws, bot["id"], "What is the capital of France?", session_id="h1")
    fake_llm.requests.clear()
    owner.chat(owner.ws, bot["id"], "And of Italy?", session_id="h1")
    sent = fake_llm.requests[-1]["messages"]
    said = [(m["role"], m["content"]) for m in sent if m["role"] != "system"]
    assert said[0] == ("user", "What is the capital of France?")
    assert said[1][0] == "assistant" and said[1][1]
    assert said[-1] == ("user", "And of Italy?")
