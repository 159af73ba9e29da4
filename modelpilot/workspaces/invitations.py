"""Inviting people: one pending invitation per address, links an admin can copy again, e-mail.

The token in a link is stored twice: its SHA-256 (the lookup when someone opens the link) and
sealed with the instance key, bound to this workspace and invitation, so the pending list can
show the same link again. A sealed token that no longer opens (the key was rotated and the old
one dropped) just shows no link; revoking and inviting again makes a new one.
"""

from __future__ import annotations

import time

from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import service as billing
from modelpilot.core import audit
from modelpilot.core.crypto import CryptoError, KeyRing, load_key_ring
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.mail import Mailer, OutgoingMail
from modelpilot.core.tokens import hash_token, new_secret
from modelpilot.core.validate import clean_email
from modelpilot.settings import Settings
from modelpilot.workspaces import repo

INVITATION_DAYS = 7
_rings: dict[tuple[str, str], KeyRing] = {}


def _ring(settings: Settings, *, reload: bool = False) -> KeyRing:
    key = (settings.secret_key, str(settings.data_dir))
    if reload or key not in _rings:
        _rings[key] = load_key_ring(settings.secret_key, settings.data_dir)
    return _rings[key]


def _aad(workspace_id: str, invitation_id: str) -> str:
    return f"invitation/{workspace_id}/{invitation_id}"


def accept_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/#/invite/{token}"


def _open_token(settings: Settings, workspace_id: str, row: dict) -> str | None:
    if not row.get("token_sealed"):
        return None
    for reload in (False, True):  # a key rotated by another process is picked up once
        try:
            return _ring(settings, reload=reload).open(row["token_sealed"], _aad(workspace_id, row["id"]))
        except CryptoError:
            continue
    return None


def _status(row: dict, now: str) -> str:
    if row["accepted_at"]:
        return "accepted"
    return "expired" if row["expires_at"] < now else "pending"


async def _refuse_duplicates(conn: Connection, workspace_id: str, email: str, now: str) -> None:
    if await repo.member_by_email(conn, workspace_id, email):
        raise ApiError(409, "already_member", f"{email} is already a member of this workspace.",
                       [{"field": "email", "message": "is already a member of this workspace"}])
    pending = await repo.open_invitations_for(conn, workspace_id, email)
    if any(row["expires_at"] >= now for row in pending):
        raise ApiError(409, "invitation_pending",
                       f"{email} already has a pending invitation; copy its link or revoke it first.",
                       [{"field": "email", "message": "already has a pending invitation (copy or revoke it below)"}])
    # An expired invitation to the same address is replaced by the new one.
    for row in pending:
        await repo.delete_invitation(conn, workspace_id, row["id"])


def _invitation_mail(settings: Settings, email: str, inviter: str, workspace: str, role: str, url: str,
                     expires_at: str) -> OutgoingMail:
    text = (
        f"Hello,\n\n{inviter} invited you to join the workspace \"{workspace}\" on ModelPilot as {role}.\n\n"
        f"Accept the invitation here:\n\n{url}\n\n"
        f"The link works once and expires on {expires_at[:10]}. If you did not expect this, ignore this message.\n\n"
        f"-- ModelPilot at {settings.base_url}\n"
    )
    return OutgoingMail(email, f"You are invited to {workspace} on ModelPilot", text)


async def seats_taken(conn: Connection, workspace_id: str) -> int:
    """Members plus open invitations: an open invitation holds a seat, or many invitations could
    overshoot the plan's limit."""
    return await repo.count_members(conn, workspace_id) + await repo.count_pending_invitations(
        conn, workspace_id, utc_now_iso())


async def _inviter_name(conn: Connection, access: WorkspaceAccess) -> str:
    members = await repo.list_members(conn, access.workspace_id)
    me = next((m for m in members if m["user_id"] == access.user_id), None)
    return f"{me['name']} ({me['email']})" if me else "An admin"


async def create_invitation(db: Database, settings: Settings, mailer: Mailer, access: WorkspaceAccess,
                            email: str, role: str) -> dict:
    access.require("admin")
    email = clean_email(email)
    token, invitation_id, now = new_secret(32), new_id(), utc_now_iso()
    row = {"id": invitation_id, "email": email, "role": role, "token_hash": hash_token(token),
           "token_sealed": _ring(settings).seal(token, _aad(access.workspace_id, invitation_id)),
           "invited_by": access.user_id, "created_at": now,
           "expires_at": iso_from_epoch(time.time() + INVITATION_DAYS * 86400)}
    async with db.write() as conn:
        await _refuse_duplicates(conn, access.workspace_id, email, now)
        await billing.ensure_under_limit_in(conn, settings, access.workspace_id, "members",
                                            lambda c: seats_taken(c, access.workspace_id))
        await repo.insert_invitation(conn, access.workspace_id, row)
        await audit.record(conn, access.workspace_id, "invitation.created", **access.audit_actor,
                           target_type="invitation", target_id=row["id"], details={"email": email, "role": role})
        inviter = await _inviter_name(conn, access)
        workspace = (await repo.get_workspace(conn, access.workspace_id))["name"]
    url = accept_url(settings, token)
    out = {"id": row["id"], "email": email, "role": role, "created_at": now, "expires_at": row["expires_at"],
           "status": "pending", "accept_url": url, "emailed": False, "email_error": None}
    if mailer.configured:
        # Sent before answering (in a thread, so nothing else waits): the admin learns at once
        # whether the e-mail went out or the link has to be passed on by hand.
        mail = _invitation_mail(settings, email, inviter, workspace, role, url, row["expires_at"])
        out["email_error"] = await mailer.try_send(mail)
        out["emailed"] = out["email_error"] is None
    return out


async def list_invitations(db: Database, settings: Settings, access: WorkspaceAccess) -> list[dict]:
    """Every invitation, newest first; pending ones carry their link again."""
    access.require("admin")
    async with db.read() as conn:
        rows = await repo.list_invitations(conn, access.workspace_id)
    now = utc_now_iso()
    out = []
    for row in rows:
        status = _status(row, now)
        token = _open_token(settings, access.workspace_id, row) if status == "pending" else None
        item = {k: v for k, v in row.items() if k != "token_sealed"}
        out.append({**item, "status": status, "accept_url": accept_url(settings, token) if token else None})
    return out
