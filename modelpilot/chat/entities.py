"""Conversations and their messages as the rest of the code sees them: typed, immutable rows.

Each is built in one place (`from_row`) and the repos read the columns its fields name, so a new
column is one field here (and its migration).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import msgspec

from modelpilot.core import answer_quality


class Message(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    conversation_id: str
    chatbot_id: str
    role: str  # user or assistant
    content: str
    status: str = "complete"  # complete, partial (cut short) or error
    error: str | None = None
    sources: list[dict] = []
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency_first_ms: int | None = None
    latency_total_ms: int | None = None
    feedback: int | None = None  # 1, -1, or none given
    created_at: str
    weak_reasons: list[str] = []  # why an answer may be weak, as stored (core/answer_quality.py)

    @classmethod
    def from_row(cls, row: dict) -> Message:
        return cls(**{**row, "sources": json.loads(row["sources"]), "weak_reasons": json.loads(row["weak_reasons"])})

    @property
    def reasons(self) -> list[str]:
        """Every reason this answer may be weak, its rating's included (core/answer_quality.py)."""
        return answer_quality.reasons_of(self.weak_reasons, self.feedback) if self.role == "assistant" else []

    def public(self) -> dict:
        """What the conversation log shows of a message (its conversation and bot are the page's)."""
        fields = msgspec.structs.asdict(self)
        del fields["conversation_id"], fields["chatbot_id"], fields["weak_reasons"]
        if self.role == "assistant":
            fields["reasons"] = self.reasons
        return fields


MESSAGE_FIELDS = tuple(field.name for field in msgspec.structs.fields(Message))


class Said(NamedTuple):
    """One message as a turn's history reads it (chat/prompt.history_within_budget)."""
    role: str
    content: str


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    chatbot_id: str
    chatbot_name: str | None  # None once the bot is deleted
    session_id: str
    channel: str  # api, preview or widget
    started_at: str
    last_message_at: str
    message_count: int
    contact_id: str | None = None  # the lead or verified visitor it belongs to
    contact_name: str | None = None  # display join on contacts
    contact_email: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> Conversation:
        return cls(**{name: row[name] for name in CONVERSATION_FIELDS})

    def public(self) -> dict:
        fields = msgspec.structs.asdict(self)
        contact_id, name, email = fields.pop("contact_id"), fields.pop("contact_name"), fields.pop("contact_email")
        fields["contact"] = {"id": contact_id, "name": name or "", "email": email} if contact_id else None
        return fields


CONVERSATION_FIELDS = tuple(field.name for field in msgspec.structs.fields(Conversation))


class LoggedConversation(msgspec.Struct, frozen=True, kw_only=True):
    """A row of the conversation log: the conversation and what its messages say about it."""
    conversation: Conversation
    preview: str | None  # the first question
    feedback_up: int
    feedback_down: int
    unanswered_count: int

    @classmethod
    def from_row(cls, row: dict) -> LoggedConversation:
        return cls(conversation=Conversation.from_row(row), preview=row["preview"], feedback_up=row["feedback_up"],
                   feedback_down=row["feedback_down"], unanswered_count=row["unanswered_count"])

    def public(self) -> dict:
        """What was asked first, and whether anything went unanswered or was rated."""
        return {**self.conversation.public(), "preview": self.preview, "feedback_up": self.feedback_up,
                "feedback_down": self.feedback_down, "first_question": self.preview,
                "unanswered": self.unanswered_count > 0, "unanswered_count": self.unanswered_count,
                "feedback": "down" if self.feedback_down else "up" if self.feedback_up else None}
