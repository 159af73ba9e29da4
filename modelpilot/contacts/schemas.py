"""Request shapes of the contacts API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

Short = Annotated[str, Meta(max_length=254)]
Custom = Annotated[dict[str, Annotated[str, Meta(max_length=500)]], Meta(max_length=30)]


class CreateContactBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short | None = None
    name: Short | None = None
    phone: Short | None = None
    company: Short | None = None
    fields: Custom | None = None


class UpdateContactBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short | None | UnsetType = UNSET
    name: Short | UnsetType = UNSET
    phone: Short | UnsetType = UNSET
    company: Short | UnsetType = UNSET
    fields: Custom | UnsetType = UNSET
