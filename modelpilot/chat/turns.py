"""A turn's outcome (what was streamed, how it ended, usage) and saving it in one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from modelpilot.billing import service as billing
from modelpilot.chat import repo
from modelpilot.chat.entities import Message
from modelpilot.contacts import visitors
from modelpilot.core.db import Database
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.providers.llm import Usage, partial_usage
from modelpilot.webhooks import service as webhooks
from modelpilot.webhooks.events import conversation_data


@dataclass
class TurnOutcome:
    sources: list[dict]
    messages: list[dict]
    parts: list[str] = field(default_factory=list)
    first_piece_at: float | None = None
    ended_at: float | None = None
    status: str | None = None        # complete | partial | error
    error_code: str | None = None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, piece: str) -> None:
        if self.first_piece_at is None:
            self.first_piece_at = time.monotonic()
        self.parts.append(piece)

    def finish(self, status: str, usage: Usage) -> None:
        self.status, self.usage, self.ended_at = status, usage, time.monotonic()

    def fail(self, code: str, message: str) -> None:
        self.status, self.error_code, self.error = "error", code, message
        self.ended_at = time.monotonic()

    def cut_short(self, model: str) -> None:
        self.status, self.ended_at = "partial", time.monotonic()
        self.usage = partial_usage(model, self.messages, self.text)


@dataclass(frozen=True)
class SavedTurn:
    conversation_id: str
    message_id: str


def _ms(start: float, end: float | None) -> int | None:
    return None if end is None else max(0, round((end - start) * 1000))


def unanswered_reason(outcome: TurnOutcome) -> str | None:
    """Why an answer counts as unanswered: no source passed the bot's threshold (`no_source`), or
    it failed and the visitor got the fallback message (`fallback`); None for an answered one."""
    if outcome.status == "error":
        return "fallback"
    if outcome.status == "complete" and not outcome.sources:
        return "no_source"
    return None


def _queue_unanswered(conn, turn: Any, channel: str, conversation_id: str, ids: tuple[str, str], answer: str,
                      now: str, reason: str, contact: dict | None) -> int:
    """question.unanswered, in the turn's transaction: the question, the answer and why."""
    messages = [{"id": ids[0], "role": "user", "content": turn.message, "created_at": turn.received_at},
                {"id": ids[1], "role": "assistant", "content": answer, "created_at": now}]
    data = conversation_data(conversation_id, turn.bot.id, turn.bot.name, channel, turn.session_id, messages,
                             contact=contact)
    data.update(question=turn.message, reason=reason, message_id=ids[1])
    return webhooks.queue_event_sync(conn, turn.workspace_id, "question.unanswered", data)


def _queue_started(conn, turn: Any, channel: str, conversation_id: str, ids: tuple[str, str], answer: str,
                   now: str, contact: dict | None) -> int:
    """conversation.started, in the transaction that created the conversation (the outbox)."""
    messages = [{"id": ids[0], "role": "user", "content": turn.message, "created_at": turn.received_at},
                {"id": ids[1], "role": "assistant", "content": answer, "created_at": now}]
    return webhooks.queue_event_sync(conn, turn.workspace_id, "conversation.started", conversation_data(
        conversation_id, turn.bot.id, turn.bot.name, channel, turn.session_id, messages,
        started_at=turn.received_at, contact=contact))


async def save_turn(db: Database, turn: Any, outcome: TurnOutcome, channel: str, visitor_ip_hash: str) -> SavedTurn:
    """The question, the answer (however far it got) and one usage event, in one transaction.
    A turn that ended before any text (upstream error, client gone) is recorded but not billable:
    its quota hold is given back."""
    if outcome.status == "error" and not outcome.usage.tokens_in:
        outcome.usage = partial_usage(turn.resolved.route.litellm_model, outcome.messages, outcome.text)
    now, bot_id, model = utc_now_iso(), turn.bot.id, turn.bot.model
    answer_id = new_id()
    usage = outcome.usage
    first_ms, total_ms = _ms(turn.started, outcome.first_piece_at), _ms(turn.started, outcome.ended_at)
    ws = turn.workspace_id

    question_id, new_conversation_id = new_id(), new_id()
    queued = 0
    contact_id = turn.visitor.contact_id if getattr(turn, "visitor", None) is not None else None
    unanswered = unanswered_reason(outcome)

    def write(conn) -> str:  # runs on the writer's thread, as one transaction, in one hop
        nonlocal queued
        conversation_id = repo.upsert_conversation_sync(conn, ws, {
            "id": new_conversation_id, "chatbot_id": bot_id, "session_id": turn.session_id, "channel": channel,
            "visitor_ip_hash": visitor_ip_hash, "started_at": turn.received_at, "last_message_at": now,
            "contact_id": contact_id})
        base = {"conversation_id": conversation_id, "chatbot_id": bot_id}
        repo.insert_message_sync(conn, ws, Message(**base, id=question_id, role="user", content=turn.message,
                                                   created_at=turn.received_at))
        repo.insert_message_sync(conn, ws, Message(
            **base, id=answer_id, role="assistant", content=outcome.text, status=outcome.status,
            error=outcome.error, sources=outcome.sources, model=model, tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out, cost=usage.cost, latency_first_ms=first_ms,
            latency_total_ms=total_ms, created_at=now))
        repo.insert_usage_event_sync(conn, ws, {
            **base, "id": new_id(), "message_id": answer_id, "channel": channel, "model": model,
            "tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out, "cost": usage.cost,
            "latency_ms": total_ms, "created_at": now,
            "billable": bool(outcome.text) or outcome.status == "complete"})
        billing.settle_message_sync(conn, ws, turn.hold)
        contact = visitors.touch_sync(conn, ws, contact_id, now) if contact_id else None
        if conversation_id == new_conversation_id:  # the upsert inserted: this turn opened it
            queued = _queue_started(conn, turn, channel, conversation_id, (question_id, answer_id),
                                    outcome.text, now, contact)
        if unanswered:
            queued += _queue_unanswered(conn, turn, channel, conversation_id, (question_id, answer_id),
                                        outcome.text, now, unanswered, contact)
        return conversation_id

    saved = SavedTurn(await db.run_write(write), answer_id)
    if queued:
        webhooks.wake(db)
    return saved
