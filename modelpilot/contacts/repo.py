"""SQL of contacts and of the sessions linked to them. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.contacts.entities import CONTACT_FIELDS, Contact
from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_value

COLUMNS = ", ".join(CONTACT_FIELDS)
WRITABLE = ("email", "name", "phone", "company", "fields", "external_id", "updated_at", "last_seen_at")


def _encoded(values: dict) -> dict:
    return {**values, "fields": json.dumps(values["fields"])} if "fields" in values else values


async def get_contact(conn: Connection, workspace_id: str, contact_id: str) -> Contact | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM contacts WHERE workspace_id = ? AND id = ?",
                          (workspace_id, contact_id))
    return None if row is None else Contact.from_row(row)


async def find_by_email(conn: Connection, workspace_id: str, email: str) -> Contact | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM contacts WHERE workspace_id = ? AND email = ?",
                          (workspace_id, email))
    return None if row is None else Contact.from_row(row)


async def find_by_external_id(conn: Connection, workspace_id: str, external_id: str) -> Contact | None:
    row = await fetch_one(conn, f"SELECT {COLUMNS} FROM contacts WHERE workspace_id = ? AND external_id = ?",
                          (workspace_id, external_id))
    return None if row is None else Contact.from_row(row)


async def insert_contact(conn: Connection, workspace_id: str, row: dict) -> None:
    values = _encoded({"email": None, "name": "", "phone": "", "company": "", "fields": {}, "external_id": None,
                       "last_seen_at": None, **row})
    await execute(conn, f"INSERT INTO contacts (workspace_id, {COLUMNS}) VALUES (?{',?' * len(CONTACT_FIELDS)})",
                  [workspace_id, *(values[name] for name in CONTACT_FIELDS)])


async def update_contact(conn: Connection, workspace_id: str, contact_id: str, changes: dict) -> None:
    values = _encoded({k: v for k, v in changes.items() if k in WRITABLE})
    assignments = ", ".join(f"{name} = ?" for name in values)  # names from WRITABLE, never the client
    await execute(conn, f"UPDATE contacts SET {assignments} WHERE workspace_id = ? AND id = ?",
                  [*values.values(), workspace_id, contact_id])


async def delete_contact(conn: Connection, workspace_id: str, contact_id: str) -> bool:
    """Its session links go by cascade; its conversations are erased by chat first."""
    return await execute(conn, "DELETE FROM contacts WHERE workspace_id = ? AND id = ?",
                         (workspace_id, contact_id)) > 0


def _like(text: str) -> str:
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def contact_page(conn: Connection, workspace_id: str, query: str | None, after: tuple[str, str] | None,
                       limit: int) -> list[Contact]:
    """Newest first; `query` is a case-insensitive substring of name, e-mail or company."""
    clauses, params = ["workspace_id = ?"], [workspace_id]
    if query:
        clauses.append("(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE ? ESCAPE '\\'"
                       " OR LOWER(company) LIKE ? ESCAPE '\\')")
        params += [_like(query)] * 3
    if after:
        clauses.append("(created_at, id) < (?, ?)")
        params += list(after)
    rows = await fetch_all(conn, f"SELECT {COLUMNS} FROM contacts WHERE {' AND '.join(clauses)}"
                                 " ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit])
    return [Contact.from_row(row) for row in rows]


async def session_link(conn: Connection, workspace_id: str, chatbot_id: str, session_id: str) -> dict | None:
    """The contact a widget session belongs to: {contact_id, verified}, or None."""
    row = await fetch_one(conn, "SELECT contact_id, verified FROM contact_sessions WHERE workspace_id = ?"
                                " AND chatbot_id = ? AND session_id = ?", (workspace_id, chatbot_id, session_id))
    return None if row is None else {"contact_id": row["contact_id"], "verified": bool(row["verified"])}


async def link_session(conn: Connection, workspace_id: str, chatbot_id: str, session_id: str, contact_id: str,
                       verified: bool, now: str) -> None:
    await execute(
        conn,
        "INSERT INTO contact_sessions (workspace_id, chatbot_id, session_id, contact_id, verified, created_at)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT (chatbot_id, session_id) DO UPDATE SET contact_id = excluded.contact_id"
        " WHERE contact_sessions.workspace_id = excluded.workspace_id AND contact_sessions.verified = 0",
        (workspace_id, chatbot_id, session_id, contact_id, int(verified), now))


async def canonical_session(conn: Connection, workspace_id: str, chatbot_id: str, contact_id: str) -> str | None:
    """The one session a verified contact has on this bot, whatever device they use."""
    return await fetch_value(conn, "SELECT session_id FROM contact_sessions WHERE workspace_id = ?"
                                   " AND chatbot_id = ? AND contact_id = ? AND verified = 1",
                             (workspace_id, chatbot_id, contact_id))


def touch_sync(conn, workspace_id: str, contact_id: str, now: str) -> None:
    conn.execute("UPDATE contacts SET last_seen_at = ? WHERE workspace_id = ? AND id = ?",
                 (now, workspace_id, contact_id))


def contact_summary_sync(conn, workspace_id: str, contact_id: str) -> dict | None:
    row = conn.execute("SELECT id, name, email FROM contacts WHERE workspace_id = ? AND id = ?",
                       (workspace_id, contact_id)).fetchone()
    return None if row is None else {key: row[key] for key in ("id", "name", "email")}


async def delete_unseen_before(conn: Connection, workspace_id: str, cutoff: str) -> int:
    """Visitors' contacts not seen since `cutoff` (contacts members entered have no last_seen_at)."""
    return await execute(conn, "DELETE FROM contacts WHERE workspace_id = ? AND last_seen_at < ?",
                         (workspace_id, cutoff))


async def delete_workspace_contacts(conn: Connection, workspace_id: str) -> int:
    await execute(conn, "DELETE FROM contact_sessions WHERE workspace_id = ?", (workspace_id,))
    return await execute(conn, "DELETE FROM contacts WHERE workspace_id = ?", (workspace_id,))
