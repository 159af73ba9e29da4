"""Request shapes for account self-service (profile, password, reset)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Short = Annotated[str, Meta(max_length=200)]
Password = Annotated[str, Meta(max_length=1024)]


class ProfileBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Short


class PasswordChangeBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class ResetRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short


class ResetBody(msgspec.Struct, forbid_unknown_fields=True):
    password: Password
