"""Who a widget session belongs to: a verified visitor (a valid identity token), a visitor who
sent the lead form, or nobody known.

A verified visitor's session is the server's: one canonical session per contact and bot, so the
same person sees the same history on every device. A request without a token that names such a
session is refused rather than served: a signed-out browser must not read a signed-in user's
conversation.
"""

from __future__ import annotations

import secrets

from modelpilot.chatbots import service as chatbots
from modelpilot.chatbots.entities import Bot
from modelpilot.contacts import repo
from modelpilot.contacts.entities import Contact, Visitor
from modelpilot.contacts.identity import identity_invalid, verify_token
from modelpilot.contacts.values import MAX_NAME, email_problem
from modelpilot.core.db import Connection, Database
from modelpilot.core.ids import epoch_from_iso, new_id, utc_now_iso
from modelpilot.settings import Settings

SEEN_EVERY_SECONDS = 60  # a verified visitor's last_seen_at is refreshed at most this often


def new_session_id() -> str:
    """A canonical session id the widget's session pattern accepts ([A-Za-z0-9_-]{16,64})."""
    return "v" + secrets.token_urlsafe(24)


async def check_token(db: Database, settings: Settings, bot: Bot, token: str) -> dict:
    """The token's claims or a 401; for routes that need no contact (the widget's config)."""
    return verify_token(token, await chatbots.identity_secret_of(db, settings, bot))


def _claimed(claims: dict) -> dict:
    """The contact details a token asserts: name and a well-formed e-mail; the rest stays in claims."""
    out = {}
    email = claims.get("email")
    if isinstance(email, str) and email.strip() and not email_problem(email.strip()):
        out["email"] = email.strip().lower()
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        out["name"] = name.strip()[:MAX_NAME]
    return out


def _fresh(contact: Contact, claimed: dict) -> bool:
    if any(getattr(contact, k) != v for k, v in claimed.items()) or contact.last_seen_at is None:
        return False
    return epoch_from_iso(contact.last_seen_at) > epoch_from_iso(utc_now_iso()) - SEEN_EVERY_SECONDS


async def _contact_for_sub(conn: Connection, workspace_id: str, sub: str, claimed: dict, now: str) -> Contact:
    contact = await repo.find_by_external_id(conn, workspace_id, sub)
    if contact is None and claimed.get("email"):  # a known lead who now signs in: the same person
        by_email = await repo.find_by_email(conn, workspace_id, claimed["email"])
        if by_email is not None and by_email.external_id is None:
            contact = by_email
            await repo.update_contact(conn, workspace_id, contact.id, {"external_id": sub})
    if contact is None:
        contact_id = new_id()
        taken = claimed.get("email") and await repo.find_by_email(conn, workspace_id, claimed["email"])
        await repo.insert_contact(conn, workspace_id, {
            **claimed, "email": None if taken else claimed.get("email"), "id": contact_id, "external_id": sub,
            "created_at": now, "updated_at": now, "last_seen_at": now})
        return await repo.get_contact(conn, workspace_id, contact_id)
    changes = {k: v for k, v in claimed.items() if getattr(contact, k) != v}
    if "email" in changes and await repo.find_by_email(conn, workspace_id, changes["email"]) is not None:
        del changes["email"]  # the address belongs to another contact: keep both as they are
    await repo.update_contact(conn, workspace_id, contact.id, {
        **changes, "last_seen_at": now, **({"updated_at": now} if changes else {})})
    return contact


async def verified_visitor(db: Database, settings: Settings, bot: Bot, token: str) -> tuple[Visitor, str]:
    """(the visitor, their canonical session id on this bot) for a valid token; 401 otherwise."""
    claims = await check_token(db, settings, bot, token)
    sub, claimed, ws = claims["sub"], _claimed(claims), bot.workspace_id
    async with db.read() as conn:
        contact = await repo.find_by_external_id(conn, ws, sub)
        session = contact and await repo.canonical_session(conn, ws, bot.id, contact.id)
        if contact is not None and claimed.get("email", contact.email) != contact.email and \
                await repo.find_by_email(conn, ws, claimed["email"]) is not None:
            del claimed["email"]  # another contact has that address: it stays theirs (see _contact_for_sub)
    if contact is None or session is None or not _fresh(contact, claimed):
        now = utc_now_iso()
        async with db.write() as conn:  # read again inside the write: two first visits race here
            contact = await _contact_for_sub(conn, ws, sub, claimed, now)
            session = await repo.canonical_session(conn, ws, bot.id, contact.id)
            if session is None:
                session = new_session_id()
                await repo.link_session(conn, ws, bot.id, session, contact.id, True, now)
    return Visitor(contact_id=contact.id, sub=sub, claims=claims, verified=True), session


async def session_visitor(db: Database, bot: Bot, session_id: str) -> Visitor | None:
    """The visitor of a session sent without a token: a lead's contact, or None."""
    async with db.read() as conn:
        link = await repo.session_link(conn, bot.workspace_id, bot.id, session_id)
    if link is None:
        return None
    if link["verified"]:
        raise identity_invalid("identity_required", "This conversation belongs to a signed-in visitor; send "
                                                    "their identity token, or start a new session.")
    return Visitor(contact_id=link["contact_id"])


async def contact_summary(db: Database, workspace_id: str, contact_id: str | None) -> dict | None:
    """{id, name, email, verified} for the widget's history; None for nobody known."""
    if contact_id is None:
        return None
    async with db.read() as conn:
        contact = await repo.get_contact(conn, workspace_id, contact_id)
    return None if contact is None else contact.summary()


def touch_sync(conn, workspace_id: str, contact_id: str, now: str) -> dict | None:
    """A message from the contact's session, in the turn's own transaction (retention counts from
    it); returns {id, name, email} for the turn's webhook payloads, or None once deleted."""
    repo.touch_sync(conn, workspace_id, contact_id, now)
    return repo.contact_summary_sync(conn, workspace_id, contact_id)
