"""The operators' side of the handoff: the inbox, taking a conversation, replying, releasing,
closing. Roles: agent and above work the inbox; assigning someone else needs editor."""

from __future__ import annotations

import time

from modelpilot.chat import handoff_repo as repo
from modelpilot.chat import conversations
from modelpilot.chat.handoff import add_message, transition
from modelpilot.chat.handoff_events import Emitted, announce, public_message
from modelpilot.core.access import WorkspaceAccess, role_rank
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, forbidden, invalid, not_found
from modelpilot.core.events import EventBus
from modelpilot.core.ids import epoch_from_iso
from modelpilot.workspaces import service as workspaces

OPERATOR_ROLE = "agent"
ASSIGN_OTHERS_ROLE = "editor"
MAX_TEXT = 4000
INBOX_STATUSES = ("waiting", "human", "mine", "all")


def _assignee(row: dict) -> dict | None:
    return {"id": row["assignee_id"], "name": row["assignee_name"]} if row.get("assignee_id") else None


def contact_of(row: dict) -> dict | None:
    if not row.get("contact_id"):
        return None
    return {"id": row["contact_id"], "name": row.get("contact_name") or "", "email": row.get("contact_email")}


def _seconds_since(iso: str | None, now: float) -> int | None:
    return max(0, int(now - epoch_from_iso(iso))) if iso else None


def inbox_item(row: dict, now: float) -> dict:
    preview = row["last_message_preview"]
    return {"id": row["id"], "chatbot_id": row["chatbot_id"], "chatbot_name": row["chatbot_name"],
            "status": row["status"], "assignee": _assignee(row), "waiting_since": row["waiting_since"],
            "wait_seconds": _seconds_since(row["waiting_since"], now) if row["status"] == "waiting" else None,
            "last_message_at": row["last_message_at"], "last_message_preview": preview[:200] if preview else None,
            "page_url": row["page_url"], "contact": contact_of(row)}


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    (offset,) = decode_cursor(cursor, 1)
    if not offset.isdigit():
        raise invalid("cursor", "is not a cursor from this list")
    return int(offset)


def require_operator(access: WorkspaceAccess) -> None:
    access.require(OPERATOR_ROLE)


async def list_inbox(db: Database, access: WorkspaceAccess, status: str, chatbot_id: str | None,
                     cursor: str | None, limit: int) -> dict:
    require_operator(access)
    if status not in INBOX_STATUSES:
        raise invalid("status", "must be one of: " + ", ".join(INBOX_STATUSES))
    offset, me = _offset(cursor), access.user_id or ""
    async with db.read() as conn:
        rows = await repo.inbox_page(conn, access.workspace_id, status, me, chatbot_id, offset, limit + 1)
        counts = await repo.inbox_counts(conn, access.workspace_id, me)
    now = time.time()
    more = len(rows) > limit
    return {"items": [inbox_item(row, now) for row in rows[:limit]],
            "next_cursor": encode_cursor(str(offset + limit)) if more else None, "counts": counts}


async def counts_for(db: Database, workspace_id: str, user_id: str | None) -> dict:
    async with db.read() as conn:
        return await repo.inbox_counts(conn, workspace_id, user_id or "")


def handoff_fields(state: dict) -> dict:
    return {"status": state["status"], "assignee": _assignee(state), "waiting_since": state["waiting_since"],
            "page_url": state["page_url"], "contact": contact_of(state)}


async def conversation_detail(db: Database, access: WorkspaceAccess, conversation_id: str) -> dict:
    """The conversation log's detail with the handoff's state and operators' names on their messages."""
    detail = await conversations.conversation_detail(db, access.workspace_id, conversation_id)
    async with db.read() as conn:
        state = await repo.conversation_state(conn, access.workspace_id, conversation_id)
        authors = await repo.message_authors(conn, access.workspace_id, conversation_id)
    if state is None:
        raise not_found("conversation")
    for message in detail["messages"]:
        message["author_name"] = authors.get(message["id"])
    return {**detail, **handoff_fields(state)}


async def _operator(db: Database, access: WorkspaceAccess, user_id: str | None = None) -> dict:
    """The member who will hold the conversation: the caller, or (editor+) someone named."""
    target = user_id or access.user_id
    if not target:
        raise invalid("user_id", "is required when an API token assigns a conversation")
    if target != access.user_id:
        access.require(ASSIGN_OTHERS_ROLE)
    card = await workspaces.member_card(db, access.workspace_id, target)
    if card is None or not _rank_at_least(card["role"], OPERATOR_ROLE):
        raise invalid("user_id", "must be a member of this workspace with the agent role or above")
    return {"id": card["id"], "name": card["name"]}


def _rank_at_least(role: str, wanted: str) -> bool:
    return role_rank(role) >= role_rank(wanted)


def assigned_elsewhere(state: dict) -> ApiError:
    return ApiError(409, "conversation_assigned", f"{state['assignee_name']} already has this conversation.",
                    {"assignee": _assignee(state)})


async def _state_for_update(conn: Connection, workspace_id: str, conversation_id: str) -> dict:
    state = await repo.conversation_state(conn, workspace_id, conversation_id)
    if state is None:
        raise not_found("conversation")
    return state


async def _assign_in(conn: Connection, state: dict, operator: dict, takeover: bool, into: Emitted) -> None:
    held_by = state["assignee_id"]
    if held_by and held_by != operator["id"] and state["status"] == "human" and not takeover:
        raise assigned_elsewhere(state)
    if held_by == operator["id"] and state["status"] == "human":
        return  # already theirs: nothing changes, nothing is logged
    await transition(conn, state, "human", into, assignee=operator, note=f"{operator['name']} took over")


async def assign(db: Database, bus: EventBus | None, access: WorkspaceAccess, conversation_id: str,
                 user_id: str | None, takeover: bool) -> dict:
    require_operator(access)
    operator = await _operator(db, access, user_id)
    into = Emitted()
    async with db.write() as conn:
        state = await _state_for_update(conn, access.workspace_id, conversation_id)
        await _assign_in(conn, state, operator, takeover, into)
    await announce(bus, into, db)
    return await conversation_detail(db, access, conversation_id)


def clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise invalid("text", "must not be empty")
    if len(text) > MAX_TEXT:
        raise invalid("text", f"must be at most {MAX_TEXT} characters")
    return text


async def operator_message(db: Database, bus: EventBus | None, access: WorkspaceAccess, conversation_id: str,
                           text: str) -> dict:
    """An operator's reply; the conversation is taken first when nobody has it."""
    require_operator(access)
    text = clean_text(text)
    if not access.user_id:
        raise forbidden("Replies come from a signed-in member; an API token cannot answer as an operator.")
    operator = await _operator(db, access)
    into = Emitted()
    async with db.write() as conn:
        state = await _state_for_update(conn, access.workspace_id, conversation_id)
        if state["status"] != "human" or state["assignee_id"] != operator["id"]:
            if state["status"] == "human" and state["assignee_id"]:
                raise assigned_elsewhere(state)
            await _assign_in(conn, state, operator, False, into)
        message = await add_message(conn, state, "operator", text, into, author=operator)
        await repo.mark_human_reply(conn, access.workspace_id, conversation_id, message["created_at"])
    await announce(bus, into, db)
    return {**public_message(message), "conversation_id": conversation_id}


async def _end(db: Database, bus: EventBus | None, access: WorkspaceAccess, conversation_id: str, status: str,
               note: str) -> dict:
    require_operator(access)
    into = Emitted()
    async with db.write() as conn:
        state = await _state_for_update(conn, access.workspace_id, conversation_id)
        if state["status"] != status:
            await transition(conn, state, status, into, note=note)
    await announce(bus, into, db)
    return await conversation_detail(db, access, conversation_id)


async def release(db: Database, bus: EventBus | None, access: WorkspaceAccess, conversation_id: str) -> dict:
    """Back to the bot: it answers the next message, with the whole conversation as history."""
    return await _end(db, bus, access, conversation_id, "bot", "Back to the bot")


async def close(db: Database, bus: EventBus | None, access: WorkspaceAccess, conversation_id: str) -> dict:
    """Closed; the visitor's next message reopens it with the bot."""
    return await _end(db, bus, access, conversation_id, "closed", "Closed")
