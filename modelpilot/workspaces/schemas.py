"""Request shapes for workspaces, members, invitations and API tokens."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Name = Annotated[str, Meta(max_length=200)]
Role = Literal["admin", "editor", "agent", "viewer"]
# API tokens act as programs, not people: no inbox role for them.
TokenRole = Literal["admin", "editor", "viewer"]


class WorkspaceSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    retention_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class CreateWorkspaceBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class UpdateWorkspaceBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    settings: WorkspaceSettings | UnsetType = UNSET


class UpdateMemberBody(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class InvitationBody(msgspec.Struct, forbid_unknown_fields=True):
    email: Name
    role: Role = "viewer"


class ApiTokenBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    role: TokenRole = "editor"


class UpdateMeBody(msgspec.Struct, forbid_unknown_fields=True):
    notify_waiting: bool
