"""The contacts as a CSV file, streamed page by page, every text cell spreadsheet-safe."""

from __future__ import annotations

import csv
import io
import json
from typing import AsyncIterator

from modelpilot.contacts import repo
from modelpilot.contacts.entities import Contact
from modelpilot.contacts.service import EXPORT_ROLE, ContactConversations
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.spreadsheet import spreadsheet_safe

PAGE = 500
HEADER = ("id", "email", "name", "phone", "company", "verified", "created_at", "last_seen_at", "conversations",
          "fields")


def _row(contact: Contact, conversations: int) -> list:
    cells = [contact.id, contact.email or "", contact.name, contact.phone, contact.company,
             "true" if contact.verified else "false", contact.created_at, contact.last_seen_at or "", conversations,
             json.dumps(contact.fields, ensure_ascii=False) if contact.fields else ""]
    return [spreadsheet_safe(cell) for cell in cells]


async def export_csv(db: Database, access: WorkspaceAccess, conversations: ContactConversations) -> AsyncIterator[str]:
    """Checks the role before the first byte: the caller awaits this, then streams what it returns."""
    access.require(EXPORT_ROLE)
    return _rows(db, access.workspace_id, conversations)


async def _rows(db: Database, workspace_id: str, conversations: ContactConversations) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    after = None
    while True:
        async with db.read() as conn:  # one page per read: a slow download holds no connection
            page = await repo.contact_page(conn, workspace_id, None, after, PAGE)
            counts = await conversations.counts(conn, workspace_id, [c.id for c in page]) if page else {}
        for contact in page:
            writer.writerow(_row(contact, counts.get(contact.id, 0)))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(page) < PAGE:
            return
        after = (page[-1].created_at, page[-1].id)
