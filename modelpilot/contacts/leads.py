"""A lead sent from the widget's form: checked against the bot's form (every bad field in one
400), merged into the workspace's contact with that e-mail, linked to the session and its
conversation, and announced as `lead.created`, all in one transaction."""

from __future__ import annotations

from typing import Any

from modelpilot.chatbots.entities import Bot
from modelpilot.chatbots.lead_form_config import STANDARD_FIELDS
from modelpilot.contacts import repo
from modelpilot.contacts.entities import Contact, Visitor
from modelpilot.contacts.service import ContactConversations
from modelpilot.contacts.values import email_problem, phone_problem, text_problem
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, FieldErrors
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.webhooks import service as webhooks

MAX_UNKNOWN_REPORTED = 5


def lead_form_disabled() -> ApiError:
    return ApiError(409, "lead_form_disabled", "This assistant does not collect contact details.")


def _label(field: dict) -> str:
    label = field["label"] or field["name"]
    return label[:1].upper() + label[1:]


def _value_problem(field: dict, value: str) -> str | None:
    kind = field["type"]
    if kind == "email":
        return email_problem(value)
    if kind == "phone":
        return phone_problem(value)
    if kind == "select" and value not in field["options"]:
        return "must be one of: " + ", ".join(field["options"])
    return text_problem(value)


def check_lead(form: dict, sent: dict[str, Any], consent: bool) -> dict[str, str]:
    """The form's values by field name (empty ones left out), or a 400 naming every bad field
    (`fields.<name>`, `consent`) in a sentence the form can show under it."""
    errors, values = FieldErrors(), {}
    for field in form["fields"]:
        raw, path = sent.get(field["name"]), f"fields.{field['name']}"
        if raw is not None and not isinstance(raw, str):
            errors.add(path, f"{_label(field)} must be text.")
            continue
        value = (raw or "").strip()
        if not value:
            if field["required"]:
                errors.add(path, f"{_label(field)} is required.")
            continue
        problem = _value_problem(field, value)
        if problem:
            errors.add(path, f"{_label(field)} {problem}.")
        else:
            values[field["name"]] = value.lower() if field["type"] == "email" and field["name"] == "email" else value
    known = {f["name"] for f in form["fields"]}
    for name in [n for n in sent if n not in known][:MAX_UNKNOWN_REPORTED]:
        errors.add(f"fields.{name[:40]}", "This form has no such field.")
    if form["consent_text"] and consent is not True:
        errors.add("consent", "Please agree to the terms to send your details.")
    errors.raise_if_any()
    return values


def _as_contact_values(values: dict[str, str]) -> dict:
    standard = {k: v for k, v in values.items() if k in STANDARD_FIELDS}
    return {**standard, "fields": {k: v for k, v in values.items() if k not in STANDARD_FIELDS}}


async def _target(conn: Connection, workspace_id: str, email: str | None, visitor: Visitor | None) -> Contact | None:
    """The contact the lead merges into: a verified visitor's own; else the workspace's contact
    with that e-mail; else the one this session sent a lead as before."""
    own = await repo.get_contact(conn, workspace_id, visitor.contact_id) if visitor and visitor.contact_id else None
    if own is not None and visitor.verified:
        return own
    by_email = await repo.find_by_email(conn, workspace_id, email) if email else None
    return by_email or own


async def _merge(conn: Connection, workspace_id: str, values: dict, visitor: Visitor | None, now: str) -> Contact:
    target = await _target(conn, workspace_id, values.get("email"), visitor)
    if target is None:
        contact_id = new_id()
        await repo.insert_contact(conn, workspace_id, {**values, "id": contact_id, "created_at": now,
                                                       "updated_at": now, "last_seen_at": now})
        return await repo.get_contact(conn, workspace_id, contact_id)
    changes = {k: v for k, v in values.items() if k != "fields" and v}  # non-empty new values win
    if changes.get("email") and changes["email"] != target.email:
        other = await repo.find_by_email(conn, workspace_id, changes["email"])
        if other is not None and other.id != target.id:
            del changes["email"]
    await repo.update_contact(conn, workspace_id, target.id, {
        **changes, "fields": {**target.fields, **values["fields"]}, "updated_at": now, "last_seen_at": now})
    return await repo.get_contact(conn, workspace_id, target.id)


def lead_data(bot: Bot, contact: Contact, consent: bool, conversation: dict | None) -> dict:
    """lead.created's payload: the contact's fields, the bot, and the conversation when there is one."""
    shown = {k: v for k, v in contact.public().items() if k != "conversation_count"}
    return {"contact": shown, "chatbot": {"id": bot.id, "name": bot.name}, "consent": consent,
            **(conversation or {"conversation": None})}


async def submit_lead(db: Database, bot: Bot, session_id: str, visitor: Visitor | None, sent: dict, consent: bool,
                      conversations: ContactConversations) -> str:
    """The contact's id; 409 when the bot has no lead form, 400 naming every bad field."""
    form = bot.lead_form
    if not form["enabled"]:
        raise lead_form_disabled()
    values = _as_contact_values(check_lead(form, sent, consent))
    now, ws = utc_now_iso(), bot.workspace_id
    async with db.write() as conn:
        contact = await _merge(conn, ws, values, visitor, now)
        if not (visitor and visitor.verified):
            await repo.link_session(conn, ws, bot.id, session_id, contact.id, False, now)
        conversation = await conversations.link(conn, ws, bot.id, session_id, contact.id)
        queued = await webhooks.queue_event(conn, ws, "lead.created", lead_data(bot, contact, consent, conversation))
    if queued:
        webhooks.wake(db)
    return contact.id
