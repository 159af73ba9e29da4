"""Request and response shapes for accounts."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Short = Annotated[str, Meta(max_length=200)]
Password = Annotated[str, Meta(max_length=1024)]


class SignupBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short
    password: Password
    name: Short
    workspace_name: Short


class SetupBody(SignupBody, forbid_unknown_fields=True):
    # Printed by the server at start; needed unless the request comes from this machine.
    setup_token: Short | None = None


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short
    password: Password


class AcceptInvitationBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Short | None = None
    password: Password | None = None
    name: Short | None = None
