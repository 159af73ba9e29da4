"""Request bodies of the public widget routes, decoded after the origin check (so that even a
400 carries the CORS grant the widget needs to read it)."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from modelpilot.core.errors import body_not_json, invalid

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
T = TypeVar("T")


class ConfirmBody(msgspec.Struct):
    call_id: str
    approve: bool


class ChatBody(msgspec.Struct):
    session_id: str
    message: str | None = None  # required unless `confirm` answers an action waiting for approval
    confirm: ConfirmBody | None = None
    page_url: str | None = None  # the host page, shown to operators if the visitor asks for a person


class HandoffBody(msgspec.Struct):
    session_id: str
    page_url: str | None = None


class FeedbackBody(msgspec.Struct):
    session_id: str
    message_id: str
    rating: int


def _field_from(message: str) -> str:
    # msgspec ends its message with the path: "Expected `str`, got `int` - at `$.message`"
    if "`$." in message:
        return message.rsplit("`$.", 1)[1].split("`")[0]
    if "missing required field" in message:
        return message.rsplit("`", 2)[-2]
    return "body"


def decode_body(raw: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        text = str(exc)
        raise invalid(_field_from(text), text.split(" - at ")[0]) from None
    except msgspec.DecodeError:
        raise invalid("body", "expected a JSON object") from None
    except (RecursionError, UnicodeDecodeError) as exc:  # deep nesting, bad bytes: the client's input
        raise body_not_json(exc) from None


def check_session_id(value: str | None) -> str:
    if not value or not SESSION_ID.match(value):
        raise invalid("session_id", "expected 16-64 letters, digits, '-' or '_'")
    return value
