"""Request shapes of the inbox and saved replies."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

Title = Annotated[str, Meta(min_length=1, max_length=100)]
ReplyText = Annotated[str, Meta(min_length=1, max_length=4000)]


class AssignBody(msgspec.Struct, forbid_unknown_fields=True):
    user_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    takeover: bool = False


class OperatorMessageBody(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(max_length=4000)]


class SavedReplyBody(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    text: ReplyText


class SavedReplyPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | UnsetType = UNSET
    text: ReplyText | UnsetType = UNSET
