"""Request shapes for chat."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta


class ConfirmBody(msgspec.Struct, forbid_unknown_fields=True):
    """The visitor's answer to an action that waits for approval (the done event's needs_confirmation)."""
    call_id: Annotated[str, Meta(min_length=1, max_length=64)]
    approve: bool


class ChatBody(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, Meta(max_length=100_000)] | None = None  # required unless `confirm` is given
    confirm: ConfirmBody | None = None
    session_id: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    # Accepted for client compatibility and ignored: history is kept server-side per session,
    # and history sent by a client is never trusted.
    history: Any = None
