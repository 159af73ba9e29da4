"""A turn's outcome (what was streamed, how it ended, usage) and saving it in one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from modelpilot.billing import service as billing
from modelpilot.chat import repo, tools_repo
from modelpilot.chat.entities import Message
from modelpilot.contacts import visitors
from modelpilot.core import answer_quality
from modelpilot.core.db import Database
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso
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
    tool_records: list[dict] = field(default_factory=list)  # chat/tools.py: each call and how it went
    pending: dict | None = None      # a call waiting for the visitor's approval (saved with the turn)
    lead_form: bool = False          # the built-in collect_lead ran: the widget shows the lead form
    handoff: bool = False            # the built-in handoff ran: the conversation goes to waiting

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


def _save_tool_calls(conn, turn: Any, outcome: TurnOutcome, channel: str, base: dict, now: str) -> None:
    """The turn's tool calls (a call the visitor just answered settles its row of the earlier
    turn), and a call now waiting for approval, in the turn's transaction."""
    ws = turn.workspace_id
    for position, record in enumerate(outcome.tool_records):
        row = {key: record[key] for key in tools_repo.TOOL_CALL_FIELDS}
        if record.get("settles"):
            tools_repo.settle_tool_call_sync(conn, ws, record["call_id"], row)
        else:
            tools_repo.insert_tool_call_sync(conn, ws, {**row, **base, "id": new_id(), "position": position,
                                                        "created_at": now})
    if outcome.pending is not None:
        minutes = turn.confirm_minutes
        tools_repo.drop_expired_confirmations_sync(conn, ws, turn.bot.id, now)
        tools_repo.insert_confirmation_sync(conn, ws, {
            "call_id": outcome.pending["public"]["call_id"], "chatbot_id": turn.bot.id, "channel": channel,
            "session_id": turn.session_id, "state": outcome.pending["state"], "created_at": now,
            "expires_at": iso_from_epoch(time.time() + minutes * 60)})


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


def _weak_reasons(conn, turn: Any, conversation_id: str, unanswered: str | None, opened: bool) -> list[str]:
    """What is known of the answer's weakness when it is saved (core/answer_quality.py): no source
    or fallback, and whether its question repeats one of the conversation's recent questions.
    A conversation this turn `opened` has no earlier question to repeat: nothing to read."""
    reasons = [unanswered] if unanswered else []
    if turn.message and not opened:
        since = iso_from_epoch(time.time() - answer_quality.REPEAT_MINUTES * 60)
        if answer_quality.is_repeat(turn.message, repo.recent_questions_sync(conn, turn.workspace_id,
                                                                             conversation_id, since)):
            reasons.append("repeat")
    return [reason for reason in answer_quality.REASONS if reason in reasons]


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

    asked = bool(turn.message)  # a confirmation's follow-up has no question of its own

    def write(conn) -> str:  # runs on the writer's thread, as one transaction, in one hop
        nonlocal queued
        conversation_id = repo.upsert_conversation_sync(conn, ws, {
            "id": new_conversation_id, "chatbot_id": bot_id, "session_id": turn.session_id, "channel": channel,
            "visitor_ip_hash": visitor_ip_hash, "started_at": turn.received_at, "last_message_at": now,
            "contact_id": contact_id}, added=2 if asked else 1)
        base = {"conversation_id": conversation_id, "chatbot_id": bot_id}
        opened = conversation_id == new_conversation_id  # the upsert inserted: this turn opened it
        weak_reasons = _weak_reasons(conn, turn, conversation_id, unanswered, opened)
        if asked:
            repo.insert_message_sync(conn, ws, Message(**base, id=question_id, role="user", content=turn.message,
                                                       created_at=turn.received_at))
        repo.insert_message_sync(conn, ws, Message(
            **base, id=answer_id, role="assistant", content=outcome.text, status=outcome.status,
            error=outcome.error, sources=outcome.sources, model=model, tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out, cost=usage.cost, latency_first_ms=first_ms,
            latency_total_ms=total_ms, created_at=now, weak_reasons=weak_reasons))
        repo.insert_usage_event_sync(conn, ws, {
            **base, "id": new_id(), "message_id": answer_id, "channel": channel, "model": model,
            "tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out, "cost": usage.cost,
            "latency_ms": total_ms, "created_at": now,
            "billable": bool(outcome.text) or outcome.status == "complete"})
        billing.settle_message_sync(conn, ws, turn.hold)
        _save_tool_calls(conn, turn, outcome, channel, {**base, "message_id": answer_id}, now)
        contact = visitors.touch_sync(conn, ws, contact_id, now) if contact_id else None
        if opened and asked:
            queued = _queue_started(conn, turn, channel, conversation_id, (question_id, answer_id),
                                    outcome.text, now, contact)
        if unanswered and asked:
            queued += _queue_unanswered(conn, turn, channel, conversation_id, (question_id, answer_id),
                                        outcome.text, now, unanswered, contact)
        return conversation_id

    saved = SavedTurn(await db.run_write(write), answer_id)
    if queued:
        webhooks.wake(db)
    return saved
