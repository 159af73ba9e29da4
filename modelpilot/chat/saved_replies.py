"""Saved replies: a workspace's canned answers. Agents read them; editors and admins write them."""

from __future__ import annotations

import msgspec

from modelpilot.chat import saved_replies_repo as repo
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, FieldErrors, not_found
from modelpilot.core.ids import new_id, utc_now_iso

MAX_REPLIES = 500


def _clean(values: dict) -> dict:
    errors = FieldErrors()
    for name in ("title", "text"):
        if name in values:
            values[name] = values[name].strip()
            if not values[name]:
                errors.add(name, "must not be empty")
    errors.raise_if_any()
    return values


async def list_replies(db: Database, access: WorkspaceAccess) -> list[dict]:
    access.require("agent")
    async with db.read() as conn:
        return await repo.list_replies(conn, access.workspace_id)


async def create_reply(db: Database, access: WorkspaceAccess, title: str, text: str) -> dict:
    access.require("editor")
    values = _clean({"title": title, "text": text})
    row = {"id": new_id(), **values, "created_at": utc_now_iso()}
    async with db.write() as conn:
        if await repo.count_replies(conn, access.workspace_id) >= MAX_REPLIES:
            raise ApiError(409, "too_many_saved_replies", f"A workspace keeps at most {MAX_REPLIES} saved replies.")
        await repo.insert_reply(conn, access.workspace_id, row)
        return await repo.get_reply(conn, access.workspace_id, row["id"])


async def update_reply(db: Database, access: WorkspaceAccess, reply_id: str, body: msgspec.Struct) -> dict:
    access.require("editor")
    changes = _clean({k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET})
    async with db.write() as conn:
        if await repo.get_reply(conn, access.workspace_id, reply_id) is None:
            raise not_found("saved reply")
        if changes:
            await repo.update_reply(conn, access.workspace_id, reply_id, {**changes, "updated_at": utc_now_iso()})
        return await repo.get_reply(conn, access.workspace_id, reply_id)


async def delete_reply(db: Database, access: WorkspaceAccess, reply_id: str) -> None:
    access.require("editor")
    async with db.write() as conn:
        if not await repo.delete_reply(conn, access.workspace_id, reply_id):
            raise not_found("saved reply")
