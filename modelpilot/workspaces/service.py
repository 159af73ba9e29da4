"""Workspaces, members, invitations and API tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass
import time
from typing import Awaitable, Callable, Sequence

import msgspec

from modelpilot.core.access import ROLE_RANK, WorkspaceAccess, role_rank
from modelpilot.billing import service as billing
from modelpilot.core import audit, fulltext
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, not_found
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.tokens import hash_token, new_api_token
from modelpilot.core.validate import clean_text
from modelpilot.settings import Settings
from modelpilot.workspaces import repo
from modelpilot.workspaces.schemas import UpdateWorkspaceBody

TOKEN_TOUCH_SECONDS = 60

# Work other domains must do inside the deletion's transaction before a workspace's rows go:
# a refusal (a live subscription) or clean-up that foreign keys cannot cascade into (vectors in
# virtual tables). The app passes them in, in order, where it is assembled (app.py).
WorkspaceHook = Callable[[Connection, str], Awaitable[None]]


@dataclass(frozen=True)
class WorkspaceHooks:
    before_delete: tuple[WorkspaceHook, ...] = ()


def public_workspace(row: dict, role: str | None = None) -> dict:
    out = {"id": row["id"], "name": row["name"], "settings": json.loads(row["settings"]),
           "created_at": row["created_at"], "updated_at": row["updated_at"]}
    if role:
        out["role"] = role
    return out


async def member_role(db: Database, workspace_id: str, user_id: str | None) -> str | None:
    if not user_id:
        return None
    async with db.read() as conn:
        return await repo.member_role(conn, workspace_id, user_id)


async def list_for_user(db: Database, user_id: str) -> list[dict]:
    async with db.read() as conn:
        return await repo.workspaces_of_user(conn, user_id)


async def create_workspace_in(conn: Connection, user_id: str, name: str) -> dict:
    workspace_id, now = new_id(), utc_now_iso()
    await repo.insert_workspace(conn, workspace_id, name, now, user_id)
    await repo.upsert_member(conn, workspace_id, user_id, "admin", now)
    await audit.record(conn, workspace_id, "workspace.created", actor_user_id=user_id,
                       target_type="workspace", target_id=workspace_id)
    return public_workspace(await repo.get_workspace(conn, workspace_id), "admin")


async def create_workspace(db: Database, user_id: str, name: str, *, limit: int = 0) -> dict:
    """limit: how many workspaces this user may have created (0: no limit). Each new workspace
    starts on the free plan with its own quota, so without a limit one account could multiply
    the free allowance at will. Counted in the write transaction, so parallel requests cannot
    pass it together."""
    name = clean_text(name, "name", max_length=100)
    async with db.write() as conn:
        if limit and await repo.count_workspaces_created_by(conn, user_id) >= limit:
            raise ApiError(403, "workspace_limit",
                           f"You have created the {limit} workspaces an account may have on this instance; "
                           "delete one you no longer need, or ask the instance owner to raise "
                           "MODELPILOT_MAX_WORKSPACES_PER_USER.")
        return await create_workspace_in(conn, user_id, name)


async def get_workspace(db: Database, access: WorkspaceAccess) -> dict:
    async with db.read() as conn:
        row = await repo.get_workspace(conn, access.workspace_id)
    if row is None:
        raise not_found("workspace")
    return public_workspace(row, access.role)


async def retention_policies(db: Database) -> list[tuple[str, int]]:
    """(workspace_id, days) for every workspace with settings.retention_days, for the retention job."""
    async with db.read() as conn:
        return await repo.retention_policies(conn)


async def update_workspace(db: Database, access: WorkspaceAccess, body: UpdateWorkspaceBody) -> dict:
    access.require("admin")
    async with db.write() as conn:
        row = await repo.get_workspace(conn, access.workspace_id)
        name = row["name"] if body.name is msgspec.UNSET else clean_text(body.name, "name", max_length=100)
        settings = json.loads(row["settings"])
        if body.settings is not msgspec.UNSET:
            settings.update(msgspec.to_builtins(body.settings))
            if body.settings.retention_days is None:
                settings.pop("retention_days", None)
        await repo.update_workspace(conn, access.workspace_id, name, json.dumps(settings), utc_now_iso())
        await audit.record(conn, access.workspace_id, "workspace.updated", **access.audit_actor,
                           target_type="workspace", target_id=access.workspace_id,
                           details={"name": name, "settings": settings})
        return public_workspace(await repo.get_workspace(conn, access.workspace_id), access.role)


async def delete_workspace(db: Database, access: WorkspaceAccess, before_delete: Sequence[WorkspaceHook]) -> None:
    access.require("admin")
    async with db.write() as conn:
        for hook in before_delete:
            await hook(conn, access.workspace_id)
        await repo.delete_workspace(conn, access.workspace_id)
        await audit.record(conn, None, "workspace.deleted", **access.audit_actor,
                           target_type="workspace", target_id=access.workspace_id)
    # Deleted text lingers inside full-text index segments until they are merged.
    await fulltext.compact(db)


def _member(row: dict) -> dict:
    return {**row, "notify_waiting": bool(row["notify_waiting"])}


async def list_members(db: Database, access: WorkspaceAccess) -> list[dict]:
    async with db.read() as conn:
        return [_member(row) for row in await repo.list_members(conn, access.workspace_id)]


async def set_notify_waiting(db: Database, access: WorkspaceAccess, value: bool) -> dict:
    """The caller's own opt-in to e-mails about conversations waiting for a person."""
    if not access.user_id:
        raise ApiError(400, "not_a_member", "Only a signed-in member has notification settings.")
    async with db.write() as conn:
        if not await repo.set_notify_waiting(conn, access.workspace_id, access.user_id, value):
            raise not_found("member")
        members = await repo.list_members(conn, access.workspace_id)
    return _member(next(m for m in members if m["user_id"] == access.user_id))


async def member_card(db: Database, workspace_id: str, user_id: str) -> dict | None:
    """{id, name, role} of a member (name falls back to the e-mail), or None; the inbox asks."""
    async with db.read() as conn:
        return await repo.member_card(conn, workspace_id, user_id)


async def waiting_notice_recipients(db: Database, workspace_id: str, min_role: str) -> list[str]:
    """E-mail addresses of members at or above min_role who opted in to waiting-conversation mails."""
    roles = tuple(role for role in ROLE_RANK if role_rank(role) >= role_rank(min_role))
    async with db.read() as conn:
        return await repo.notify_waiting_emails(conn, workspace_id, roles)


async def _guard_last_admin(conn: Connection, workspace_id: str, user_id: str, new_role: str | None) -> str:
    current = await repo.member_role(conn, workspace_id, user_id)
    if current is None:
        raise not_found("member")
    if current == "admin" and new_role != "admin" and await repo.count_members(conn, workspace_id, "admin") <= 1:
        raise ApiError(409, "last_admin", "A workspace needs at least one admin; promote someone else first.")
    return current


async def change_member_role(db: Database, access: WorkspaceAccess, user_id: str, role: str) -> dict:
    access.require("admin")
    async with db.write() as conn:
        old = await _guard_last_admin(conn, access.workspace_id, user_id, role)
        await repo.set_member_role(conn, access.workspace_id, user_id, role)
        await audit.record(conn, access.workspace_id, "member.role_changed", **access.audit_actor,
                           target_type="user", target_id=user_id, details={"from": old, "to": role})
        members = await repo.list_members(conn, access.workspace_id)
    return _member(next(m for m in members if m["user_id"] == user_id))


async def remove_member(db: Database, access: WorkspaceAccess, user_id: str) -> None:
    access.require("admin")
    async with db.write() as conn:
        await _guard_last_admin(conn, access.workspace_id, user_id, None)
        await repo.delete_member(conn, access.workspace_id, user_id)
        await audit.record(conn, access.workspace_id, "member.removed", **access.audit_actor,
                           target_type="user", target_id=user_id)


async def count_members(db: Database, workspace_id: str) -> int:
    async with db.read() as conn:
        return await repo.count_members(conn, workspace_id)


async def revoke_invitation(db: Database, access: WorkspaceAccess, invitation_id: str) -> None:
    access.require("admin")
    async with db.write() as conn:
        if not await repo.delete_invitation(conn, access.workspace_id, invitation_id):
            raise not_found("invitation")
        await audit.record(conn, access.workspace_id, "invitation.revoked", **access.audit_actor,
                           target_type="invitation", target_id=invitation_id)


async def open_invitation_in(conn: Connection, token: str) -> dict:
    """The invitation behind a token, if it can still be accepted."""
    row = await repo.find_invitation_by_hash(conn, hash_token(token))
    if row is None:
        raise not_found("invitation")
    if row["accepted_at"]:
        raise ApiError(410, "invitation_used", "This invitation has already been accepted.")
    if row["expires_at"] < utc_now_iso():
        raise ApiError(410, "invitation_expired", "This invitation has expired; ask for a new one.")
    return row


async def describe_invitation(db: Database, token: str) -> dict:
    async with db.read() as conn:
        row = await open_invitation_in(conn, token)
    return {"workspace_name": row["workspace_name"], "email": row["email"], "role": row["role"],
            "expires_at": row["expires_at"]}


async def count_members_in(conn: Connection, workspace_id: str) -> int:
    return await repo.count_members(conn, workspace_id)


async def workspace_exists_in(conn: Connection, workspace_id: str) -> bool:
    return await repo.workspace_exists(conn, workspace_id)


async def find_workspace(db: Database, ref: str) -> dict:
    """The instance owner's lookup (CLI): a workspace by id, else by its exact name."""
    async with db.read() as conn:
        matches = await repo.find_workspaces(conn, ref)
    if not matches:
        raise ApiError(404, "not_found", f"No workspace with id or name {ref!r}.")
    if len(matches) > 1:
        ids = ", ".join(m["id"] for m in matches)
        raise ApiError(409, "ambiguous", f"Several workspaces are named {ref!r}; use an id: {ids}")
    return matches[0]


async def join_in(conn: Connection, invitation: dict, user_id: str, ip: str = "", *, settings: Settings) -> None:
    ws = invitation["workspace_id"]
    existing = await repo.member_role(conn, ws, user_id)
    if existing is None:
        # The seat count on accepting is the members already in (this invitation holds a seat).
        await billing.ensure_under_limit_in(conn, settings, ws, "members", lambda c: repo.count_members(c, ws))
    # Accepting never lowers a role someone already has.
    if existing is None or role_rank(invitation["role"]) > role_rank(existing):
        await repo.upsert_member(conn, ws, user_id, invitation["role"], utc_now_iso())
    await repo.mark_invitation_accepted(conn, ws, invitation["id"], user_id, utc_now_iso())
    await audit.record(conn, ws, "invitation.accepted", actor_user_id=user_id, target_type="invitation",
                       target_id=invitation["id"], ip=ip)


async def accept_invitation(db: Database, token: str, user_id: str, email: str, ip: str = "", *,
                            settings: Settings) -> None:
    """A logged-in user joins, only if the invitation was sent to their own address: the link
    may have been forwarded, leaked or guessed from a shared screen, and the role it grants
    (admin included) is meant for the invited person alone."""
    async with db.write() as conn:
        invitation = await open_invitation_in(conn, token)
        if invitation["email"].lower() != email.lower():
            raise ApiError(403, "invitation_for_another_email",
                           f"This invitation was sent to {invitation['email']}, and you are logged in as "
                           f"{email}. Log out, then open the link again to join with the invited address.")
        await join_in(conn, invitation, user_id, ip, settings=settings)


async def create_api_token(db: Database, access: WorkspaceAccess, name: str, role: str) -> dict:
    access.require("admin")
    name = clean_text(name, "name", max_length=100)
    secret = new_api_token()
    row = {"id": new_id(), "name": name, "role": role, "token_hash": hash_token(secret),
           "prefix": secret[:7], "created_by": access.user_id, "created_at": utc_now_iso()}
    async with db.write() as conn:
        await repo.insert_api_token(conn, access.workspace_id, row)
        await audit.record(conn, access.workspace_id, "api_token.created", **access.audit_actor,
                           target_type="api_token", target_id=row["id"], details={"name": name, "role": role})
    return {"id": row["id"], "name": name, "role": role, "prefix": row["prefix"],
            "created_at": row["created_at"], "token": secret}


async def list_api_tokens(db: Database, access: WorkspaceAccess) -> list[dict]:
    access.require("admin")
    async with db.read() as conn:
        return await repo.list_api_tokens(conn, access.workspace_id)


async def revoke_api_token(db: Database, access: WorkspaceAccess, token_id: str) -> None:
    access.require("admin")
    async with db.write() as conn:
        if await repo.get_api_token(conn, access.workspace_id, token_id) is None:
            raise not_found("API token")
        await repo.revoke_api_token(conn, access.workspace_id, token_id, utc_now_iso())
        await audit.record(conn, access.workspace_id, "api_token.revoked", **access.audit_actor,
                           target_type="api_token", target_id=token_id)


async def find_api_token(db: Database, token_hash: str) -> dict | None:
    async with db.read() as conn:
        row = await repo.find_api_token_by_hash(conn, token_hash)
    if row is None:
        return None
    now = utc_now_iso()
    if not row["last_used_at"] or row["last_used_at"] < iso_from_epoch(time.time() - TOKEN_TOUCH_SECONDS):
        async with db.write() as conn:
            await repo.touch_api_token(conn, row["workspace_id"], row["id"], now)
    return row


async def audit_log(db: Database, access: WorkspaceAccess, before: str | None, limit: int) -> list[dict]:
    access.require("admin")
    async with db.read() as conn:
        return await audit.list_entries(conn, access.workspace_id, limit=limit, before=before)
