"""Chat's side of a contact: how many conversations it has, which, erasing them, and linking a
widget session's conversation to it. The contacts domain receives these through
`contacts.service.ContactConversations`, wired in app.py (contacts cannot import chat: chat
imports contacts for the Visitor of a turn)."""

from __future__ import annotations

from modelpilot.chat import handoff_repo, repo
from modelpilot.chat.handoff_events import WEBHOOK_LAST_MESSAGES
from modelpilot.core.db import Connection
from modelpilot.webhooks.events import conversation_data

WIDGET = "widget"


async def conversation_counts_in(conn: Connection, workspace_id: str, contact_ids: list[str]) -> dict[str, int]:
    return await repo.conversation_counts_by_contact(conn, workspace_id, contact_ids)


async def contact_conversations_in(conn: Connection, workspace_id: str, contact_id: str) -> list[dict]:
    return await repo.contact_conversations(conn, workspace_id, contact_id)


async def erase_contact_conversations_in(conn: Connection, workspace_id: str, contact_id: str) -> dict:
    """{conversations, messages} erased; the caller compacts the full-text index after commit."""
    return await repo.delete_contact_conversations(conn, workspace_id, contact_id)


async def link_session_in(conn: Connection, workspace_id: str, chatbot_id: str, session_id: str,
                          contact_id: str) -> dict | None:
    """The widget session's conversation (if it has one yet) now belongs to the contact; its
    webhook data (bot, channel, latest messages), or None."""
    row = await repo.link_session_contact(conn, workspace_id, chatbot_id, WIDGET, session_id, contact_id)
    if row is None:
        return None
    summary = await handoff_repo.webhook_summary(conn, workspace_id, row["id"], WEBHOOK_LAST_MESSAGES)
    return conversation_data(row["id"], chatbot_id, summary["chatbot_name"], WIDGET, session_id,
                             summary["messages"], status=row["status"])
