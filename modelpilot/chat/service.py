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
from modelpilot.chat import handoff, repo, tools_repo
from modelpilot.chat.entities import Message, Said
from modelpilot.chat.prompt import HISTORY_FETCH, build_messages, history_within_budget, sources_of
from modelpilot.chat.tools import Resume, ToolContext, ToolLoop, toolbox_for
from modelpilot.chat.turns import TurnOutcome, save_turn, unanswered_reason
from modelpilot.contacts.entities import Visitor
from modelpilot.core import audit, fulltext, metrics
from modelpilot.core.db import Database
from modelpilot.core.events import EventBus
from modelpilot.core.errors import ApiError, forbidden, invalid, not_found
from modelpilot.core.ids import utc_now_iso
from modelpilot.providers import service as providers
from modelpilot.providers.errors import LLMError
from modelpilot.providers.service import ResolvedModel
from modelpilot.core.ratelimit import Throttle
from modelpilot.providers.stream import AnswerRequest, open_stream
from modelpilot.rag.retrieve import RetrievedChunk
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
    visitor: Visitor | None = None  # a widget visitor we know (a lead, or verified by the host site)
    started: float = field(default_factory=time.monotonic)
    received_at: str = field(default_factory=utc_now_iso)
    confirm_minutes: int = 15  # how long a call waiting for the visitor's approval is kept


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


@dataclass(frozen=True)
class TurnReads:
    """Everything a turn reads before the model is called, read in one hop (one reader connection,
    one trip to its thread, instead of one per domain): the session's handoff state, the
    workspace's provider keys and billing account, the session's recent messages (None: the
    caller brings its own history) and the bot's search scope. Each domain's own service reads
    its part (`*_sync`); the services that decide take it instead of reading it again."""
    state: dict | None
    keys: dict
    account: dict | None
    recent: list[Said] | None
    scope: rag.SearchScope


async def read_turn(db: Database, workspace_id: str, bot: Bot, channel: str, session_id: str,
                    with_history: bool = True) -> TurnReads:
    def read(conn) -> TurnReads:
        recent = (repo.recent_lines_sync(conn, workspace_id, bot.id, channel, session_id, HISTORY_FETCH)
                  if with_history else None)
        return TurnReads(handoff.session_state_sync(conn, bot, channel, session_id),
                         providers.keys_sync(conn, workspace_id), billing.account_sync(conn, workspace_id),
                         recent, rag.scope_sync(conn, workspace_id, bot.id))
    return await db.run_read(read)


async def prepare_turn(db: Database, settings: Settings, *, workspace_id: str, bot: Bot, session_id: str,
                       message: str, channel: str = "api", visitor: Visitor | None = None,
                       confirming: bool = False, reads: TurnReads | None = None) -> Turn:
    """Every check that can refuse a message before the stream begins (HTTP errors, not events),
    the plan's message quota (402) last: an over-quota workspace never reaches the model, and the
    message is held against the quota from here on (the caller settles or releases the hold).
    A confirmation's follow-up (`confirming`) has no text of its own but calls the model too.
    `reads`: read_turn's, when the caller has them (left out: each part is read here)."""
    text = "" if confirming else check_message_text(message, settings)
    session_id = clean_session_id(session_id)
    resolved = await providers.resolve_model(db, settings, workspace_id, bot.model, reads.keys if reads else None)
    hold = await billing.reserve_message(db, settings, workspace_id, reads.account if reads else ...)
    return Turn(workspace_id, bot, session_id, text, resolved, channel, hold, visitor=visitor,
                confirm_minutes=settings.chat_tool_confirm_minutes)


async def load_history(db: Database, turn: Turn, budget_tokens: int) -> list[dict]:
    async with db.read() as conn:
        recent = await repo.recent_lines(conn, turn.workspace_id, turn.bot.id, turn.channel, turn.session_id,
                                         HISTORY_FETCH)
    return history_within_budget(recent, budget_tokens)


async def _open_turn(db: Database, settings: Settings, turn: Turn, throttle: Throttle | None,
                     history: list[dict] | None = None, reads: TurnReads | None = None) -> tuple[ToolLoop, TurnOutcome]:
    """History (the session's saved one unless the caller brings its own), knowledge, the bot's tools
    and the answer's loop; the quota hold goes back if any of it fails (or the client leaves) before
    the stream exists."""
    bot = turn.bot
    try:
        if history is None and reads is not None and reads.recent is not None:
            history = history_within_budget(reads.recent, settings.chat_history_tokens)
        elif history is None:
            history = await load_history(db, turn, settings.chat_history_tokens)
        chunks = await rag.retrieve(db, turn.workspace_id, bot, turn.message, top_k=bot.top_k,
                                    scope=reads.scope if reads else None)
        messages = build_messages(bot, history, chunks, turn.message, visitor=turn.visitor)  # threshold applied
        request = AnswerRequest(messages, temperature=bot.temperature, max_tokens=bot.max_tokens,
                                question=turn.message, knowledge=chunks)
        tools = await toolbox_for(db, settings, turn)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await billing.release_message(db, turn.workspace_id, turn.hold)
        raise
    outcome = TurnOutcome(sources=sources_of(chunks), messages=messages)
    return ToolLoop(ToolContext(db, settings, turn, throttle), request, tools, outcome), outcome


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
                 page_url: str | None = None, throttle: Throttle | None = None,
                 visitor: Visitor | None = None, history: list[dict] | None = None) -> AsyncIterator[dict]:
    # Waiting for or with a person, a handoff keyword, or closed: the handoff decides first
    # (the model is not called while a person has the conversation). A caller that brings its
    # own history (answer_with_history) has no server-side conversation for a person to take.
    text, session_id = check_message_text(message, settings), clean_session_id(session_id)
    reads = await read_turn(db, workspace_id, bot, channel, session_id, with_history=history is None)
    handled = None if history is not None else await handoff.take_message(
        db, bus, bot, channel, session_id, text, visitor_ip_hash=visitor_ip_hash, page_url=page_url,
        contact_id=visitor.contact_id if visitor else None, state=reads.state)
    if handled is not None:
        if handled.get("status") == "offline" and lead_form_on_handoff(bot, visitor):
            handled["lead_form"] = True
        yield handled
        return
    if history is None and handoff.reopens(reads.state):
        reads = await read_turn(db, workspace_id, bot, channel, session_id)  # read before the reopening wrote
    turn = await prepare_turn(db, settings, workspace_id=workspace_id, bot=bot, session_id=session_id,
                              message=message, channel=channel, visitor=visitor, reads=reads)
    loop, outcome = await _open_turn(db, settings, turn, throttle, history, reads)
    async for event in _answer(db, turn, loop, outcome, visitor_ip_hash, bus):
        yield event


def confirmation_expired() -> ApiError:
    return ApiError(409, "confirmation_expired", "This action is no longer waiting for an answer (it was answered "
                                                 "already, or it expired). Ask again to start over.")


async def stream_confirm(db: Database, settings: Settings, *, workspace_id: str, bot: Bot, session_id: str,
                         call_id: str, approve: bool, channel: str, visitor_ip_hash: str = "",
                         bus: EventBus | None = None, throttle: Throttle | None = None,
                         visitor: Visitor | None = None) -> AsyncIterator[dict]:
    """The visitor's answer to a call that waited for approval: run it (or not), then let the
    model go on from where it stopped. The waiting call is taken in one write (one answer wins)."""
    session_id = clean_session_id(session_id)
    if await handoff.with_person(db, bot, channel, session_id):
        raise ApiError(409, "conversation_with_person", "A person has this conversation now; the assistant does "
                                                        "not run actions while they do.")
    turn = await prepare_turn(db, settings, workspace_id=workspace_id, bot=bot, session_id=session_id, message="",
                              channel=channel, visitor=visitor, confirming=True)
    try:
        taken = await db.run_write(lambda conn: tools_repo.take_confirmation_sync(
            conn, workspace_id, bot.id, channel, session_id, call_id))
        if taken is None or taken["expires_at"] < utc_now_iso():
            raise confirmation_expired()
        tools = await toolbox_for(db, settings, turn)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await billing.release_message(db, turn.workspace_id, turn.hold)
        raise
    state = taken["state"]
    request = AnswerRequest(state["messages"], temperature=bot.temperature, max_tokens=bot.max_tokens)
    outcome = TurnOutcome(sources=state.get("sources") or [], messages=state["messages"])
    loop = ToolLoop(ToolContext(db, settings, turn, throttle), request, tools, outcome, Resume(state, approve))
    async for event in _answer(db, turn, loop, outcome, visitor_ip_hash, bus):
        yield event


async def _answer(db: Database, turn: Turn, loop: ToolLoop, outcome: TurnOutcome, visitor_ip_hash: str,
                  bus: EventBus | None) -> AsyncIterator[dict]:
    """The loop's events, then the turn saved (whatever ended it) and the closing event."""
    channel = turn.channel
    events = loop.events()
    try:
        async for event in events:
            yield event
        outcome.finish("complete", loop.usage)
    except LLMError as exc:
        outcome.fail(exc.code, exc.message)
    except Exception:  # a bug must still end the stream with an error event and save the turn
        log.exception("chat stream failed")
        outcome.fail("internal_error", "Something went wrong while answering.")
    finally:
        if outcome.status is None:
            outcome.cut_short(turn.resolved.route.litellm_model)  # the client went away
        with anyio.CancelScope(shield=True):
            await events.aclose()  # releases the upstream connection now, not at garbage collection
            ids = await save_turn(db, turn, outcome, channel, visitor_ip_hash)
        _record_metrics(turn, outcome, channel)
    if outcome.status == "error":
        # The provider's words (scrubbed) are in the conversation log for the workspace; a widget
        # visitor gets none of them: they could carry whatever the upstream URL answered.
        shown = VISITOR_ERROR if channel == "widget" else outcome.error
        yield {"error": {"code": outcome.error_code, "message": shown}}
        return
    done = {"done": True, "message_id": ids.message_id, "conversation_id": ids.conversation_id,
            "session_id": turn.session_id, "tokens": outcome.usage.tokens_in + outcome.usage.tokens_out,
            "tokens_in": outcome.usage.tokens_in, "tokens_out": outcome.usage.tokens_out,
            "cost": outcome.usage.cost, "sources": outcome.sources}
    extras = await _done_extras(db, bus, turn, outcome, visitor_ip_hash)
    if "lead_form" not in extras and await lead_form_due(db, turn, outcome, ids.conversation_id):
        extras["lead_form"] = True
    yield {**done, **extras}


async def _done_extras(db: Database, bus: EventBus | None, turn: Turn, outcome: TurnOutcome,
                       visitor_ip_hash: str) -> dict:
    extras: dict = {}
    if outcome.lead_form:
        extras["lead_form"] = True
    if outcome.pending is not None:
        extras["needs_confirmation"] = outcome.pending["public"]
    if outcome.handoff:  # after the turn is saved, so the visitor's question comes before "Asked for a person"
        reply = await handoff.request_handoff(db, bus, turn.bot, turn.session_id, channel=turn.channel,
                                              visitor_ip_hash=visitor_ip_hash)
        extras["status"] = reply["status"]
        if reply["status"] == "offline":
            extras["offline_message"] = reply["offline_message"]
            if lead_form_on_handoff(turn.bot, turn.visitor):
                extras["lead_form"] = True
    return extras


def lead_form_on_handoff(bot: Bot, visitor: Visitor | None) -> bool:
    """A handoff outside hours: the bot's form takes the visitor's details instead (unless known)."""
    form = bot.lead_form
    return form["enabled"] and form["when"] == "on_handoff" and not (visitor is not None and visitor.contact_id)


async def lead_form_due(db: Database, turn: Turn, outcome: TurnOutcome, conversation_id: str) -> bool:
    """Whether the widget should show the bot's lead form now: never to a known contact; for
    `after_messages`, from the N-th visitor message of the conversation on; for
    `when_unanswered`, after an answer without a source over the threshold."""
    form = turn.bot.lead_form
    if turn.channel == "api" or not form["enabled"] or (turn.visitor is not None and turn.visitor.contact_id):
        return False
    if form["when"] == "when_unanswered":
        return unanswered_reason(outcome) is not None
    if form["when"] == "after_messages":
        async with db.read() as conn:
            sent = await repo.count_visitor_messages(conn, turn.workspace_id, conversation_id)
        return sent >= form["after_messages"]
    return False


def answer_with_history(db: Database, settings: Settings, *, workspace_id: str, bot: Bot, session_id: str,
                        message: str, history: list[dict]) -> AsyncIterator[dict]:
    """The OpenAI-compatible API's entry (openif/completions.py): the same turn as stream_reply on
    channel `api`, with the client's own earlier messages as the history instead of the session's
    saved ones (a token holder is the workspace's own integration). Same events, same saving."""
    return stream_reply(db, settings, workspace_id=workspace_id, bot=bot, session_id=session_id, message=message,
                        channel="api", history=history)


@dataclass(frozen=True)
class UnsavedAnswer:
    """What the bot answered a test question, and the knowledge it was given (ranked, top_k)."""
    text: str
    chunks: list[RetrievedChunk]


async def answer_without_saving(db: Database, settings: Settings, *, workspace_id: str, bot: Bot,
                                question: str) -> UnsavedAnswer:
    """A test set's question answered as a first chat message would be (evals/): the bot's model,
    retrieval at its top_k and threshold, the same prompt and the one provider entry point. Nothing
    is saved (no conversation, usage event or webhook: the visitor log and analytics never see it),
    and no tools are offered: a test must not call a bot's HTTP actions or hand anyone over. The
    plan's message quota still applies: an over-quota workspace gets 402 here as in chat, and a
    test's answers are not counted as visitor messages. Raises ApiError / LLMError."""
    text = check_message_text(question, settings)
    resolved = await providers.resolve_model(db, settings, workspace_id, bot.model)
    hold = await billing.reserve_message(db, settings, workspace_id)
    try:
        chunks = await rag.retrieve(db, workspace_id, bot, text, top_k=bot.top_k)
        request = AnswerRequest(build_messages(bot, [], chunks, text), temperature=bot.temperature,
                                max_tokens=bot.max_tokens, question=text, knowledge=chunks)
        parts = [piece async for piece in open_stream(resolved, request, settings)]
    finally:
        with anyio.CancelScope(shield=True):
            await billing.release_message(db, workspace_id, hold)
    return UnsavedAnswer("".join(parts), list(chunks))


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
