"""Contacts as members see them: list and search, one contact with its conversations, create,
edit (agents and up), delete with its conversations (admins; audited), and retention.

A contact's conversations are chat's rows: chat's functions for them come in through
`ContactConversations`, wired in app.py (chat imports contacts for the Visitor, so contacts
cannot import chat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import msgspec

from modelpilot.chatbots.lead_form_config import CUSTOM_NAME
from modelpilot.contacts import repo
from modelpilot.contacts.entities import Contact
from modelpilot.contacts.values import MAX_CUSTOM_FIELDS, MAX_NAME, email_problem, phone_problem, text_problem
from modelpilot.core import audit, fulltext
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, FieldErrors, invalid, not_found
from modelpilot.core.ids import new_id, utc_now_iso

VIEW_ROLE = "viewer"
EDIT_ROLE = "agent"     # operators add and correct the people they talk to
EXPORT_ROLE = "editor"  # a file of every contact's details leaves the instance
DELETE_ROLE = "admin"   # erases conversations too: a person's request to be forgotten
MAX_QUERY = 200
STANDARD = ("email", "name", "phone", "company")


@dataclass(frozen=True)
class ContactConversations:
    """Chat's side of a contact, each run in the caller's transaction."""
    counts: Callable[[Connection, str, list[str]], Awaitable[dict[str, int]]]
    listed: Callable[[Connection, str, str], Awaitable[list[dict]]]
    erase: Callable[[Connection, str, str], Awaitable[dict]]  # -> {"conversations": n, "messages": m}
    # (conn, workspace, bot, session, contact) -> the session's conversation as webhook data, or None
    link: Callable[[Connection, str, str, str, str], Awaitable[dict | None]]


def contact_exists() -> ApiError:
    return ApiError(409, "contact_exists", "Another contact already has this e-mail address.",
                    [{"field": "email", "message": "belongs to another contact"}])


def clean_changes(values: dict[str, Any], errors: FieldErrors) -> dict:
    """A create or patch body's values, stripped and checked; problems go to `errors`."""
    out: dict[str, Any] = {}
    for name in STANDARD:
        if name not in values:
            continue
        value = (values[name] or "").strip()
        problem = text_problem(value, MAX_NAME if name != "email" else 254)
        if not problem and value and name == "email":
            problem = email_problem(value)
        if not problem and value and name == "phone":
            problem = phone_problem(value)
        if problem:
            errors.add(name, problem)
        out[name] = (value.lower() or None) if name == "email" else value
    if "fields" in values:
        out["fields"] = _clean_custom(values["fields"] or {}, errors)
    return out


def _clean_custom(fields: dict, errors: FieldErrors) -> dict:
    if len(fields) > MAX_CUSTOM_FIELDS:
        errors.add("fields", f"can have at most {MAX_CUSTOM_FIELDS} entries")
    out = {}
    for key, value in fields.items():
        if not CUSTOM_NAME.match(key) or key in STANDARD:
            errors.add(f"fields.{key[:40]}", "is not a usable field name (a-z, 0-9 and _, starting with a letter)")
            continue
        value = str(value).strip()
        problem = text_problem(value)
        if problem:
            errors.add(f"fields.{key}", problem)
        elif value:
            out[key] = value
    return out


async def _with_counts(conn: Connection, workspace_id: str, contacts: list[Contact],
                       conversations: ContactConversations) -> list[dict]:
    counts = await conversations.counts(conn, workspace_id, [c.id for c in contacts]) if contacts else {}
    return [{**c.public(), "conversation_count": counts.get(c.id, 0)} for c in contacts]


async def list_contacts(db: Database, access: WorkspaceAccess, conversations: ContactConversations,
                        q: str | None, cursor: str | None, limit: int) -> dict:
    access.require(VIEW_ROLE)
    query = (q or "").strip() or None
    if query and (len(query) > MAX_QUERY or not query.isprintable()):
        raise invalid("q", f"must be at most {MAX_QUERY} printable characters")
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        rows = await repo.contact_page(conn, access.workspace_id, query, after, limit + 1)
        items = await _with_counts(conn, access.workspace_id, rows[:limit], conversations)
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return {"items": items, "next_cursor": encode_cursor(last.created_at, last.id) if last else None}


async def _get(conn: Connection, workspace_id: str, contact_id: str) -> Contact:
    contact = await repo.get_contact(conn, workspace_id, contact_id)
    if contact is None:
        raise not_found("contact")
    return contact


async def contact_detail(db: Database, access: WorkspaceAccess, conversations: ContactConversations,
                         contact_id: str) -> dict:
    access.require(VIEW_ROLE)
    async with db.read() as conn:
        contact = await _get(conn, access.workspace_id, contact_id)
        listed = await conversations.listed(conn, access.workspace_id, contact_id)
    return {**contact.public(), "conversation_count": len(listed), "conversations": listed}


async def _email_free(conn: Connection, workspace_id: str, email: str | None, contact_id: str | None) -> None:
    if email:
        other = await repo.find_by_email(conn, workspace_id, email)
        if other is not None and other.id != contact_id:
            raise contact_exists()


async def create_contact(db: Database, access: WorkspaceAccess, conversations: ContactConversations,
                         body: Any) -> dict:
    access.require(EDIT_ROLE)
    errors = FieldErrors()
    values = clean_changes(msgspec.structs.asdict(body), errors)
    if not values.get("email") and not values.get("name"):
        errors.add("email", "or a name is needed to add a contact")
    errors.raise_if_any()
    now = utc_now_iso()
    contact_id = new_id()
    async with db.write() as conn:
        await _email_free(conn, access.workspace_id, values.get("email"), None)
        await repo.insert_contact(conn, access.workspace_id, {**values, "id": contact_id, "created_at": now,
                                                              "updated_at": now})
        await audit.record(conn, access.workspace_id, "contact.created", **access.audit_actor,
                           target_type="contact", target_id=contact_id)
        contact = await _get(conn, access.workspace_id, contact_id)
    return {**contact.public(), "conversation_count": 0}


async def update_contact(db: Database, access: WorkspaceAccess, conversations: ContactConversations,
                         contact_id: str, body: Any) -> dict:
    access.require(EDIT_ROLE)
    errors = FieldErrors()
    given = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    changes = clean_changes(given, errors)
    errors.raise_if_any()
    async with db.write() as conn:
        contact = await _get(conn, access.workspace_id, contact_id)
        if "email" in changes:
            await _email_free(conn, access.workspace_id, changes["email"], contact_id)
        if not changes.get("email", contact.email) and not changes.get("name", contact.name) and not contact.verified:
            raise invalid("email", "or a name must remain on a contact")
        if changes:
            await repo.update_contact(conn, access.workspace_id, contact_id, {**changes, "updated_at": utc_now_iso()})
            await audit.record(conn, access.workspace_id, "contact.updated", **access.audit_actor,
                               target_type="contact", target_id=contact_id, details={"fields": sorted(changes)})
        [shown] = await _with_counts(conn, access.workspace_id, [await _get(conn, access.workspace_id, contact_id)],
                                     conversations)
    return shown


async def delete_contact(db: Database, access: WorkspaceAccess, conversations: ContactConversations,
                         contact_id: str) -> None:
    """Erase the contact and every conversation (and message) linked to it; the audit entry keeps
    the counts, not the person's details."""
    access.require(DELETE_ROLE)
    async with db.write() as conn:
        await _get(conn, access.workspace_id, contact_id)
        erased = await conversations.erase(conn, access.workspace_id, contact_id)
        await repo.delete_contact(conn, access.workspace_id, contact_id)
        await audit.record(conn, access.workspace_id, "contact.deleted", **access.audit_actor,
                           target_type="contact", target_id=contact_id, details=erased)
    if erased.get("conversations"):
        await fulltext.compact(db, ("messages_fts",))  # the deleted words must leave the search index too


async def purge_workspace_contacts(conn: Connection, workspace_id: str) -> None:
    """Workspace deletion hook (app.py's WORKSPACE_HOOKS): every contact and session link goes."""
    await repo.delete_workspace_contacts(conn, workspace_id)


async def purge_unseen_before(db: Database, workspace_id: str, cutoff: str) -> int:
    """Retention: visitors' contacts with no visit since `cutoff` go with their expired
    conversations (contacts members entered by hand stay)."""
    async with db.write() as conn:
        deleted = await repo.delete_unseen_before(conn, workspace_id, cutoff)
        if deleted:
            await audit.record(conn, workspace_id, "contacts.expired", target_type="workspace",
                               target_id=workspace_id, details={"deleted": deleted, "before": cutoff})
    return deleted
