"""The chat flow: pre-flight checks, history, knowledge, the model stream, and saving the turn.

stream_reply yields the SSE event dicts of API.md. Whatever ends the stream (the model finishing,
an upstream error, a timeout or the client going away, which cancels this generator) the turn is
saved once, from a shielded `finally`, so nothing streamed is lost. Streamed pieces are kept in
memory and written in one transaction at the end: no database write per piece.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import anyio

from modelpilot.chatbots.entities import Bot
from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import service as billing
from modelpilot.chat import handoff, repo
from modelpilot.chat.entities import Message
from modelpilot.chat.prompt import HISTORY_FETCH, build_messages, history_within_budget, sources_of
from modelpilot.chat.turns import TurnOutcome, save_turn
from modelpilot.core import audit, fulltext, metrics
from modelpilot.core.db import Database
from modelpilot.core.events import EventBus
from modelpilot.core.errors import forbidden, invalid, not_found
from modelpilot.core.ids import utc_now_iso
from modelpilot.providers import service as providers
from modelpilot.providers.errors import LLMError
from modelpilot.providers.service import ResolvedModel
from modelpilot.providers.stream import AnswerRequest, open_stream
from modelpilot.rag import retrieve as rag
from modelpilot.settings import Settings
from modelpilot.webhooks import service as webhooks
from modelpilot.webhooks.events import conversation_data

log = logging.getLogger("modelpilot.chat")
MAX_SESSION_ID = 100
# The least role that may chat from the dashboard or the API: a message spends tokens and quota,
# which a read-only viewer must not. The inbox issue's `agent` role takes this over when it lands.
CHAT_MIN_ROLE = "editor"
VISITOR_ERROR = "The assistant could not answer just now. Please try again in a moment."
PURGE_BATCH = 500  # conversations per write transaction, so the writer is never held long


@dataclass
class Turn:
    """One question, checked and ready to answer."""
    workspace_id: str
    bot: Bot
    session_id: str
    message: str
    resolved: ResolvedModel
    channel: str = "api"
    hold: str | None = None  # the quota hold taken for this message (billing.reserve_message)
    started: float = field(default_factory=time.monotonic)
    received_at: str = field(default_factory=utc_now_iso)


def require_chat_role(access: WorkspaceAccess) -> None:
    """403 for members (and API tokens) below CHAT_MIN_ROLE, before anything is spent."""
    if not access.can(CHAT_MIN_ROLE):
        raise forbidden(f"Chatting with a bot needs the {CHAT_MIN_ROLE} role or above: each message spends "
                        f"tokens and the workspace's message quota. You are {access.role}; ask an admin "
                        "for a higher role.")


def clean_session_id(session_id: str) -> str:
    session_id = session_id.strip()
    if not session_id or len(session_id) > MAX_SESSION_ID or not session_id.isprintable():
        raise invalid("session_id", f"must be 1-{MAX_SESSION_ID} printable characters")
    return session_id


def check_message_text(message: str, settings: Settings) -> str:
    text = message.strip()
    if not text:
        raise invalid("message", "must not be empty")
    if len(text) > settings.chat_max_message_chars:
        raise invalid("message", f"must be at most {settings.chat_max_message_chars} characters")
    return text


async def prepare_turn(db: Database, settings: Settings, *, workspace_id: str, bot: Bot, session_id: str,
                       message: str, channel: str = "api") -> Turn:
    """Every check that can refuse a message before the stream begins (HTTP errors, not events),
    the plan's message quota (402) last: an over-quota workspace never reaches the model, and the
    message is held against the quota from here on (the caller settles or releases the hold)."""
    text = check_message_text(message, settings)
    session_id = clean_session_id(session_id)
    resolved = await providers.resolve_model(db, settings, workspace_id, bot.model)
    hold = await billing.reserve_message(db, settings, workspace_id)
    return Turn(workspace_id, bot, session_id, text, resolved, channel, hold)


async def load_history(db: Database, turn: Turn, budget_tokens: int) -> list[dict]:
    async with db.read() as conn:
        recent = await repo.recent_messages(conn, turn.workspace_id, turn.bot.id, turn.channel, turn.session_id,
                                            HISTORY_FETCH)
    return history_within_budget(recent, budget_tokens)


async def _open_turn(db: Database, settings: Settings, turn: Turn) -> tuple[object, TurnOutcome]:
    """History, knowledge and the model stream; the quota hold goes back if any of it fails
    (or the client leaves) before the stream exists."""
    bot = turn.bot
    try:
        history = await load_history(db, turn, settings.chat_history_tokens)
        chunks = await rag.retrieve(db, turn.workspace_id, bot, turn.message, top_k=bot.top_k)
        messages = build_messages(bot, history, chunks, turn.message)  # retrieve applied the threshold
        request = AnswerRequest(messages, temperature=bot.temperature, max_tokens=bot.max_tokens,
                                question=turn.message, knowledge=chunks)
        stream = open_stream(turn.resolved, request, settings)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await billing.release_message(db, turn.workspace_id, turn.hold)
        raise
    return stream, TurnOutcome(sources=sources_of(chunks), messages=messages)


async def stream_reply(db: Database, settings: Settings, **turn: Any) -> AsyncIterator[dict]:
    """The turn's events (`_reply`). Until the first one exists, this node's background work
    (webhook deliveries) steps aside (core/foreground.py): that wait is the one a person sees."""
    events = _reply(db, settings, **turn)
    try:
        with db.foreground.hold():
            first = await anext(events, None)
        if first is None:
            return
        yield first
        async for event in events:
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await events.aclose()  # at once, not at garbage collection (it saves the turn)


async def _reply(db: Database, settings: Settings, *, workspace_id: str, bot: Bot, session_id: str,
                 message: str, channel: str, visitor_ip_hash: str = "", bus: EventBus | None = None,
                 page_url: str | None = None) -> AsyncIterator[dict]:
    # Waiting for or with a person, a handoff keyword, or closed: the handoff decides first
    # (the model is not called while a person has the conversation).
    handled = await handoff.take_message(db, bus, bot, channel, clean_session_id(session_id),
                                         check_message_text(message, settings), visitor_ip_hash=visitor_ip_hash,
                                         page_url=page_url)
    if handled is not None:
        yield handled
        return
    turn = await prepare_turn(db, settings, workspace_id=workspace_id, bot=bot, session_id=session_id,
                              message=message, channel=channel)
    stream, outcome = await _open_turn(db, settings, turn)
    pieces = stream.__aiter__()
    try:
        async for piece in pieces:
            outcome.add(piece)
            yield {"text": piece}
        outcome.finish("complete", stream.usage)
    except LLMError as exc:
        outcome.fail(exc.code, exc.message)
    except Exception:  # a bug must still end the stream with an error event and save the turn
        log.exception("chat stream failed")
        outcome.fail("internal_error", "Something went wrong while answering.")
    finally:
        if outcome.status is None:
            outcome.cut_short(turn.resolved.route.litellm_model)  # the client went away
        with anyio.CancelScope(shield=True):
            await pieces.aclose()  # releases the upstream connection now, not at garbage collection
            ids = await save_turn(db, turn, outcome, channel, visitor_ip_hash)
        _record_metrics(turn, outcome, channel)
    if outcome.status == "error":
        # The provider's words (scrubbed) are in the conversation log for the workspace; a widget
        # visitor gets none of them: they could carry whatever the upstream URL answered.
        shown = VISITOR_ERROR if channel == "widget" else outcome.error
        yield {"error": {"code": outcome.error_code, "message": shown}}
        return
    yield {"done": True, "message_id": ids.message_id, "conversation_id": ids.conversation_id,
           "session_id": turn.session_id, "tokens": outcome.usage.tokens_in + outcome.usage.tokens_out,
           "tokens_in": outcome.usage.tokens_in, "tokens_out": outcome.usage.tokens_out,
           "cost": outcome.usage.cost, "sources": outcome.sources}


async def session_history(db: Database, workspace_id: str, bot_id: str, channel: str,
                          session_id: str) -> list[Message]:
    """Messages of one session of that channel, oldest first."""
    session_id = clean_session_id(session_id)
    async with db.read() as conn:
        return await repo.session_messages(conn, workspace_id, bot_id, channel, session_id)


async def set_feedback(db: Database, workspace_id: str, bot_id: str, channel: str, session_id: str,
                       message_id: str, rating: int) -> None:
    """Thumbs up (1) or down (-1) on an assistant message of that session; 404 for anything else.
    message.feedback is queued in the same transaction."""
    if rating not in (1, -1):
        raise invalid("rating", "must be 1 or -1")
    session_id = clean_session_id(session_id)
    async with db.write() as conn:
        if not await repo.set_feedback(conn, workspace_id, bot_id, channel, session_id, message_id, rating):
            raise not_found("message")
        queued = await _queue_feedback(conn, workspace_id, message_id, rating)
    if queued:
        webhooks.wake(db)


async def _queue_feedback(conn, workspace_id: str, message_id: str, rating: int) -> int:
    rated = await repo.rated_message(conn, workspace_id, message_id)
    if rated is None:
        return 0
    messages = [m for m in (rated.pop("question"), rated) if m]
    data = conversation_data(rated["conversation_id"], rated["chatbot_id"], rated["chatbot_name"] or "",
                             rated["channel"], rated["session_id"], messages)
    data.update(message_id=message_id, rating=rating, feedback="up" if rating > 0 else "down")
    return await webhooks.queue_event(conn, workspace_id, "message.feedback", data)


def _record_metrics(turn: Turn, outcome: TurnOutcome, channel: str) -> None:
    ended = outcome.ended_at or time.monotonic()
    first = None if outcome.first_piece_at is None else outcome.first_piece_at - turn.started
    result = {"complete": "ok", "error": "error"}.get(outcome.status or "", "cancelled")
    metrics.record_chat("widget" if channel == "widget" else "api", result, duration_s=ended - turn.started,
                        first_token_s=first, tokens_in=outcome.usage.tokens_in, tokens_out=outcome.usage.tokens_out,
                        cost=outcome.usage.cost or 0.0)


async def delete_conversation(db: Database, access: WorkspaceAccess, conversation_id: str) -> None:
    """Erase one conversation and its messages (a visitor's request to be forgotten); admins only."""
    access.require("admin")
    async with db.write() as conn:
        row = await repo.get_conversation(conn, access.workspace_id, conversation_id)
        if row is None:
            raise not_found("conversation")
        await repo.delete_conversation(conn, access.workspace_id, conversation_id)
        await audit.record(conn, access.workspace_id, "conversation.deleted", **access.audit_actor,
                           target_type="conversation", target_id=conversation_id,
                           details={"chatbot_id": row.chatbot_id, "messages": row.message_count})
    await fulltext.compact(db, ("messages_fts",))  # the deleted words must leave the search index too


async def purge_conversations_before(db: Database, workspace_id: str, cutoff: str) -> int:
    """Retention: delete the workspace's conversations last active before cutoff; returns how many."""
    total = 0
    while True:
        async with db.write() as conn:
            deleted = await repo.delete_conversations_before(conn, workspace_id, cutoff, PURGE_BATCH)
            total += deleted
            if deleted < PURGE_BATCH and total:
                await audit.record(conn, workspace_id, "conversations.expired", target_type="workspace",
                                   target_id=workspace_id, details={"deleted": total, "before": cutoff})
        if deleted < PURGE_BATCH:
            break
    if total:
        await fulltext.compact(db, ("messages_fts",))
    return total
