"""Conversation export as CSV or JSONL: one row per message, streamed page by page.

A reader connection is held for one page at a time, never for the whole download, so a slow
client cannot tie up the pool.
"""

from __future__ import annotations

import csv
import io
import json
from typing import AsyncIterator

from modelpilot.chat import log_repo
from modelpilot.chat.entities import Conversation, LoggedConversation, Message
from modelpilot.chat.log_repo import ConversationFilter
from modelpilot.core.db import Connection, Database
from modelpilot.core.spreadsheet import spreadsheet_safe

PAGE = 200
FIELDS = ("conversation_id", "chatbot_id", "chatbot_name", "session_id", "channel", "message_id", "role",
          "content", "status", "error", "model", "tokens_in", "tokens_out", "cost", "latency_first_ms",
          "latency_total_ms", "feedback", "sources", "created_at")


def _export_row(conversation: Conversation, message: Message) -> dict:
    """One line of the export: the message with its conversation's bot, session and channel."""
    row = {**conversation.public(), **message.public(), "conversation_id": conversation.id, "message_id": message.id}
    return {name: row[name] for name in FIELDS}


async def _messages_of(conn: Connection, workspace_id: str, page: list[LoggedConversation]) -> list[dict]:
    by_id = {logged.conversation.id: logged.conversation for logged in page}
    messages = await log_repo.export_messages(conn, workspace_id, list(by_id))
    order = {cid: index for index, cid in enumerate(by_id)}
    messages.sort(key=lambda m: order[m.conversation_id])  # stable: keeps each conversation's message order
    return [_export_row(by_id[message.conversation_id], message) for message in messages]


async def message_rows(db: Database, workspace_id: str, flt: ConversationFilter) -> AsyncIterator[list[dict]]:
    after = None
    while True:
        async with db.read() as conn:
            page = await log_repo.conversation_page(conn, workspace_id, flt, after, PAGE)
            rows = await _messages_of(conn, workspace_id, page) if page else []
        if rows:
            yield rows
        if len(page) < PAGE:
            return
        after = (page[-1].conversation.last_message_at, page[-1].conversation.id)


def _csv_cell(name: str, value):
    if name == "cost" and isinstance(value, float):
        return f"{value:.8f}"  # fixed decimals: a spreadsheet reads 6.09e-05 as text or loses it
    return spreadsheet_safe(value)


async def export_csv(db: Database, workspace_id: str, flt: ConversationFilter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    yield buffer.getvalue()
    async for rows in message_rows(db, workspace_id, flt):
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([_csv_cell(name, json.dumps(row[name]) if name == "sources" else row[name])
                             for name in FIELDS])
        yield buffer.getvalue()


async def export_jsonl(db: Database, workspace_id: str, flt: ConversationFilter) -> AsyncIterator[str]:
    async for rows in message_rows(db, workspace_id, flt):
        yield "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n"
