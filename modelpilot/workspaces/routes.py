"""Workspace routes: the workspace itself, members, invitations, API tokens, audit log."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import Parameter

from modelpilot.core.access import Principal, WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.mail import Mailer
from modelpilot.settings import Settings
from modelpilot.workspaces import invitations, service
from modelpilot.workspaces.service import WorkspaceHooks
from modelpilot.workspaces.schemas import (
    ApiTokenBody,
    CreateWorkspaceBody,
    InvitationBody,
    UpdateMeBody,
    UpdateMemberBody,
    UpdateWorkspaceBody,
)

WS = "/api/v1/workspaces/{ws:str}"


@get("/api/v1/workspaces", tags=["workspaces"])
async def list_workspaces(db: Database, user: Principal) -> list[dict]:
    return await service.list_for_user(db, user.user_id)


@post("/api/v1/workspaces", tags=["workspaces"])
async def create_workspace(db: Database, settings: Settings, user: Principal, data: CreateWorkspaceBody) -> dict:
    # The instance owner runs the place (an agency makes one workspace per client): no limit.
    limit = 0 if user.is_owner else settings.max_workspaces_per_user
    return await service.create_workspace(db, user.user_id, data.name, limit=limit)


@get(WS, tags=["workspaces"])
async def get_workspace(db: Database, access: WorkspaceAccess) -> dict:
    return await service.get_workspace(db, access)


@patch(WS, tags=["workspaces"])
async def update_workspace(db: Database, access: WorkspaceAccess, data: UpdateWorkspaceBody) -> dict:
    return await service.update_workspace(db, access, data)


@delete(WS, tags=["workspaces"], status_code=204)
async def delete_workspace(db: Database, access: WorkspaceAccess, workspace_hooks: WorkspaceHooks) -> None:
    await service.delete_workspace(db, access, workspace_hooks.before_delete)


@get(WS + "/members", tags=["workspaces"])
async def list_members(db: Database, access: WorkspaceAccess) -> list[dict]:
    return await service.list_members(db, access)


@patch(WS + "/members/me", tags=["workspaces"])
async def update_my_membership(db: Database, access: WorkspaceAccess, data: UpdateMeBody) -> dict:
    return await service.set_notify_waiting(db, access, data.notify_waiting)


@patch(WS + "/members/{user_id:str}", tags=["workspaces"])
async def update_member(db: Database, access: WorkspaceAccess, user_id: str, data: UpdateMemberBody) -> dict:
    return await service.change_member_role(db, access, user_id, data.role)


@delete(WS + "/members/{user_id:str}", tags=["workspaces"], status_code=204)
async def remove_member(db: Database, access: WorkspaceAccess, user_id: str) -> None:
    await service.remove_member(db, access, user_id)


@get(WS + "/invitations", tags=["workspaces"])
async def list_invitations(db: Database, settings: Settings, access: WorkspaceAccess) -> list[dict]:
    return await invitations.list_invitations(db, settings, access)


@post(WS + "/invitations", tags=["workspaces"])
async def create_invitation(db: Database, settings: Settings, mailer: Mailer, access: WorkspaceAccess,
                            data: InvitationBody) -> dict:
    return await invitations.create_invitation(db, settings, mailer, access, data.email, data.role)


@delete(WS + "/invitations/{invitation_id:str}", tags=["workspaces"], status_code=204)
async def revoke_invitation(db: Database, access: WorkspaceAccess, invitation_id: str) -> None:
    await service.revoke_invitation(db, access, invitation_id)


@get(WS + "/api-tokens", tags=["workspaces"])
async def list_api_tokens(db: Database, access: WorkspaceAccess) -> list[dict]:
    return await service.list_api_tokens(db, access)


@post(WS + "/api-tokens", tags=["workspaces"])
async def create_api_token(db: Database, access: WorkspaceAccess, data: ApiTokenBody) -> dict:
    return await service.create_api_token(db, access, data.name, data.role)


@delete(WS + "/api-tokens/{token_id:str}", tags=["workspaces"], status_code=204)
async def revoke_api_token(db: Database, access: WorkspaceAccess, token_id: str) -> None:
    await service.revoke_api_token(db, access, token_id)


@get(WS + "/audit-log", tags=["workspaces"])
async def audit_log(
    db: Database,
    access: WorkspaceAccess,
    before: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> list[dict]:
    return await service.audit_log(db, access, before, limit)


ROUTES = [
    list_workspaces, create_workspace, get_workspace, update_workspace, delete_workspace,
    list_members, update_my_membership, update_member, remove_member,
    list_invitations, create_invitation, revoke_invitation,
    list_api_tokens, create_api_token, revoke_api_token, audit_log,
]
