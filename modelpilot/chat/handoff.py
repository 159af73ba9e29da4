"""Human handoff, the visitor's side and the state machine both sides share.

    bot ──(button / keyword, within hours)──► waiting ──(assign)──► human
     ▲                                           │                    │
     └────────────(release)──────────────────────┴────────────────────┤
    closed ◄───────────────────(close: from any state)────────────────┘
    closed ──(a new visitor message)──► bot

While `waiting` or `human` the model is never called: a visitor's message is saved and shown to
operators. Every change runs in one write transaction (the writer lock on SQLite, the advisory
lock on Postgres), so two operators racing for a conversation are serialised and one wins; its
events go through handoff_events.emit and are announced after commit.
"""

from __future__ import annotations

from types import EllipsisType
from typing import AsyncIterator

from modelpilot.chat import handoff_repo as repo
from modelpilot.chat.handoff_events import STATUS_TYPES, Emitted, announce, emit, public_message
from modelpilot.chatbots.entities import Bot
from modelpilot.chatbots.handoff_config import is_open, matches_keyword
from modelpilot.core import answer_quality
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError
from modelpilot.core.events import EventBus
from modelpilot.core.ids import new_id, utc_now_iso

MAX_PAGE_URL = 2000
LIVE = ("waiting", "human")


def handoff_disabled() -> ApiError:
    return ApiError(409, "handoff_disabled", "This assistant does not hand conversations over to a person.")


def clean_page_url(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value.startswith(("http://", "https://")) or not value.isprintable():
        return None
    return value[:MAX_PAGE_URL]


async def add_message(conn: Connection, conversation: dict, role: str, content: str, into: Emitted, *,
                      author: dict | None = None) -> dict:
    """A visitor, operator or system message, logged as a conversation.message event."""
    message = {"id": new_id(), "role": role, "content": content, "created_at": utc_now_iso(),
               "author_id": author["id"] if author else None, "author_name": author["name"] if author else None}
    ws = conversation["workspace_id"]
    await repo.insert_message(conn, ws, {**message, "conversation_id": conversation["id"],
                                         "chatbot_id": conversation["chatbot_id"]})
    conversation["last_message_at"] = message["created_at"]
    await emit(conn, ws, conversation, "conversation.message", message=public_message(message), into=into)
    return message


async def _mark_answer_handed_off(conn: Connection, workspace_id: str, conversation_id: str) -> None:
    """The answer the visitor asked for a person after counts as weak (core/answer_quality.py)."""
    answer = await repo.last_answer(conn, workspace_id, conversation_id)
    if answer is not None:
        await repo.set_weak_reasons(conn, workspace_id, answer["id"],
                                    answer_quality.with_reason(answer["weak_reasons"], "handoff"))


async def transition(conn: Connection, conversation: dict, status: str, into: Emitted, *,
                     assignee: dict | None = None, note: str | None = None) -> None:
    """Move the conversation to `status` (with `assignee` for human), log it, and add the system line."""
    ws = conversation["workspace_id"]
    waiting_since = utc_now_iso() if status == "waiting" else None
    await repo.set_status(conn, ws, conversation["id"], status, assignee["id"] if assignee else None, waiting_since)
    if status == "waiting":
        await repo.mark_handoff(conn, ws, conversation["id"], waiting_since)
        await _mark_answer_handed_off(conn, ws, conversation["id"])
    conversation.update(status=status, waiting_since=waiting_since, assignee_id=assignee["id"] if assignee else None,
                        assignee_name=assignee["name"] if assignee else None)
    await emit(conn, ws, conversation, STATUS_TYPES[status], into=into)
    if note:
        await add_message(conn, conversation, "system", note, into)


async def _session_conversation(conn: Connection, bot: Bot, channel: str, session_id: str,
                                visitor_ip_hash: str, contact_id: str | None = None) -> dict:
    await repo.ensure_conversation(conn, bot.workspace_id, {
        "id": new_id(), "chatbot_id": bot.id, "session_id": session_id, "channel": channel,
        "visitor_ip_hash": visitor_ip_hash, "now": utc_now_iso(), "contact_id": contact_id})
    return await repo.session_state(conn, bot.workspace_id, bot.id, channel, session_id)


async def _to_waiting(conn: Connection, conversation: dict, page_url: str | None, into: Emitted) -> None:
    if page_url:
        await repo.set_page_url(conn, conversation["workspace_id"], conversation["id"], page_url)
        conversation["page_url"] = page_url
    if conversation["status"] not in LIVE:
        await transition(conn, conversation, "waiting", into, note="Asked for a person")


def offline_reply(bot: Bot) -> dict:
    return {"status": "offline", "offline_message": bot.handoff["offline_message"]}


async def request_handoff(db: Database, bus: EventBus | None, bot: Bot, session_id: str, *, channel: str = "widget",
                          visitor_ip_hash: str = "", page_url: str | None = None,
                          contact_id: str | None = None) -> dict:
    """The visitor pressed the button: `waiting` (or already with a person), or offline outside hours."""
    if not bot.handoff["enabled"]:
        raise handoff_disabled()
    if not is_open(bot.handoff["hours"]):
        return offline_reply(bot)
    into = Emitted()
    async with db.write() as conn:
        conversation = await _session_conversation(conn, bot, channel, session_id, visitor_ip_hash, contact_id)
        await _to_waiting(conn, conversation, clean_page_url(page_url), into)
    await announce(bus, into, db)
    return {"status": conversation["status"], "conversation_id": conversation["id"]}


def _needs_us(state: dict | None, keyword: bool) -> bool:
    return keyword or (state is not None and state["status"] in ("waiting", "human", "closed"))


async def take_message(db: Database, bus: EventBus | None, bot: Bot, channel: str, session_id: str, text: str, *,
                       visitor_ip_hash: str = "", page_url: str | None = None,
                       contact_id: str | None = None, state: dict | None | EllipsisType = ...) -> dict | None:
    """Handle a chat message the bot must not answer; None when the bot answers it as usual.

    Waiting or with a person: saved and shown to operators. A keyword: the same as the button
    (the message is kept in the log). Closed: reopened as `bot`, then answered by the bot.
    Returns the short stream's `done` event otherwise. `state`: session_state_sync's row when the
    caller has read it already (left out: read here).
    """
    keyword = bot.handoff["enabled"] and matches_keyword(text, bot.handoff["keywords"])
    if state is ...:
        async with db.read() as conn:
            state = await repo.session_state(conn, bot.workspace_id, bot.id, channel, session_id)
    if not _needs_us(state, keyword):
        return None
    into = Emitted()
    try:
        async with db.write() as conn:
            return await _take_in(conn, bot, channel, session_id, text, keyword, visitor_ip_hash,
                                  clean_page_url(page_url), into, contact_id)
    finally:
        await announce(bus, into, db)


async def _take_in(conn: Connection, bot: Bot, channel: str, session_id: str, text: str, keyword: bool,
                   visitor_ip_hash: str, page_url: str | None, into: Emitted,
                   contact_id: str | None = None) -> dict | None:
    conversation = await _session_conversation(conn, bot, channel, session_id, visitor_ip_hash, contact_id)
    if conversation["status"] == "closed":
        await transition(conn, conversation, "bot", into, note="Reopened")
    if conversation["status"] not in LIVE and not keyword:
        return None  # the bot answers (its turn saves the message)
    message = await add_message(conn, conversation, "user", text, into)
    done = {"done": True, "message_id": message["id"], "conversation_id": conversation["id"],
            "session_id": session_id}
    if conversation["status"] in LIVE:
        return {**done, "status": conversation["status"]}
    if not is_open(bot.handoff["hours"]):
        return {**done, **offline_reply(bot)}
    await _to_waiting(conn, conversation, page_url, into)
    return {**done, "status": conversation["status"]}


def session_state_sync(conn, bot: Bot, channel: str, session_id: str) -> dict | None:
    """The session's conversation state (None: no conversation yet) on a blocking connection:
    take_message's `state`, for a caller that reads it with other things in one hop."""
    return repo.session_state_sync(conn, bot.workspace_id, bot.id, channel, session_id)


def reopens(state: dict | None) -> bool:
    """Whether take_message, given this state, reopens the conversation (a write) and then leaves
    the message to the bot: what was read with the state is older than that write."""
    return state is not None and state["status"] == "closed"


async def with_person(db: Database, bot: Bot, channel: str, session_id: str) -> bool:
    """Whether the session's conversation is waiting for or with a person (the bot stays out)."""
    async with db.read() as conn:
        state = await repo.session_state(conn, bot.workspace_id, bot.id, channel, session_id)
    return state is not None and state["status"] in LIVE


async def short_stream(done: dict) -> AsyncIterator[dict]:
    yield done


async def visitor_state(db: Database, bot: Bot, session_id: str) -> dict:
    """For the widget's history: status, who has it, the last event id, and operators' names."""
    async with db.read() as conn:
        state = await repo.session_state(conn, bot.workspace_id, bot.id, "widget", session_id)
        if state is None:
            return {"status": "bot", "assignee_name": None, "last_event_id": 0, "authors": {}}
        authors = await repo.message_authors(conn, bot.workspace_id, state["id"])
        last = await repo.last_session_event(conn, bot.workspace_id, bot.id, session_id)
    return {"status": state["status"], "assignee_name": state["assignee_name"], "last_event_id": last,
            "authors": authors}
