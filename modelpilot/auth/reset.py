"""Password reset by one-time link: from the "forgot password" form (e-mailed) or the CLI (printed).

A link holds 256 random bits; only their SHA-256 is stored. It works once, for an hour, and
using it (or changing the password) voids every other link of that user. Asking for a link
answers the same, at once, whether or not the address has an account: the look-up and the
mail happen after the answer.
"""

from __future__ import annotations

import time

from modelpilot.auth import account_repo, service
from modelpilot.auth.account import AccountLimits, too_many
from modelpilot.core import audit
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.mail import Mailer, OutgoingMail
from modelpilot.core.passwords import check_password_policy, hash_password
from modelpilot.core.tokens import hash_token, new_secret
from modelpilot.settings import Settings

RESET_MINUTES = 60
LINK_INVALID = ApiError(404, "reset_link_invalid",
                        "This reset link is not valid or was used already. Ask for a new one.")
LINK_EXPIRED = ApiError(410, "reset_link_expired", "This reset link has expired. Ask for a new one.")


def reset_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/#/reset/{token}"


async def _issue_in(conn, user_id: str) -> tuple[str, str]:
    token = new_secret(32)
    expires = iso_from_epoch(time.time() + RESET_MINUTES * 60)
    await account_repo.insert_reset(conn, new_id(), user_id, hash_token(token), utc_now_iso(), expires)
    return token, expires


async def issue_link(db: Database, settings: Settings, email: str) -> dict | None:
    """`modelpilot reset-password EMAIL`: a link for the account, or None when there is none."""
    async with db.write() as conn:
        user = await account_repo.user_by_email(conn, email.strip().lower())
        if user is None:
            return None
        token, expires = await _issue_in(conn, user["id"])
        await audit.record(conn, None, "user.password_reset_requested", target_type="user",
                           target_id=user["id"], details={"via": "cli"})
    return {"email": user["email"], "url": reset_url(settings, token), "expires_at": expires}


def _reset_mail(settings: Settings, user: dict, url: str) -> OutgoingMail:
    text = (
        f"Hello {user['name']},\n\n"
        f"someone (hopefully you) asked to reset the password of your ModelPilot account {user['email']}.\n"
        f"Choose a new password here within {RESET_MINUTES} minutes:\n\n{url}\n\n"
        "The link works once. If you did not ask for it, ignore this message: your password stays as it is.\n\n"
        f"-- ModelPilot at {settings.base_url}\n"
    )
    return OutgoingMail(user["email"], "Reset your ModelPilot password", text)


async def request_reset(db: Database, settings: Settings, mailer: Mailer, limits: AccountLimits,
                        email: str, ip: str) -> None:
    """The "forgot password" form. Mails a link when the account exists; never says whether it does.

    Everything after the per-address throttle runs once the 202 has gone out, so the answer
    takes the same time for every address, account or not."""
    wait = await limits.throttle.take((limits.reset_requests_per_ip, ip))
    if wait:
        raise too_many(wait, "password reset requests from this address")
    if mailer.configured:
        mailer.in_background(_mail_link(db, settings, mailer, limits, email.strip().lower(), ip))


async def _mail_link(db: Database, settings: Settings, mailer: Mailer, limits: AccountLimits, email: str,
                     ip: str) -> None:
    # Counted per address typed, account or not, so the limit itself reveals nothing.
    if await limits.throttle.take((limits.reset_mails_per_email, email)):
        return
    async with db.write() as conn:
        await account_repo.delete_expired_resets(conn, utc_now_iso())
        user = await account_repo.user_by_email(conn, email)
        if user is None:
            return
        token, _ = await _issue_in(conn, user["id"])
        await audit.record(conn, None, "user.password_reset_requested", target_type="user",
                           target_id=user["id"], details={"via": "email"}, ip=ip)
    await mailer.try_send(_reset_mail(settings, user, reset_url(settings, token)))


async def _open_link(db: Database, token: str) -> dict:
    async with db.read() as conn:
        row = await account_repo.find_reset(conn, hash_token(token))
    if row is None:
        raise LINK_INVALID
    if row["expires_at"] < utc_now_iso():
        raise LINK_EXPIRED
    return row


async def describe_link(db: Database, token: str) -> dict:
    """What the reset page shows before the new password is typed."""
    row = await _open_link(db, token)
    return {"email": row["email"], "expires_at": row["expires_at"]}


async def complete_reset(db: Database, settings: Settings, limits: AccountLimits, token: str, password: str,
                         ip: str, user_agent: str) -> tuple[str, str]:
    """Sets the new password, ends every session, voids other links. Returns (user id, new session)."""
    wait = await limits.throttle.take((limits.reset_attempts_per_ip, ip))
    if wait:
        raise too_many(wait, "password reset attempts from this address")
    row = await _open_link(db, token)
    # Checked before the link is spent, so a refused password leaves the link usable.
    check_password_policy(password, row["email"])
    new_hash = await hash_password(password)
    async with db.write() as conn:
        if not await account_repo.consume_reset(conn, row["id"]):
            raise LINK_INVALID
        await account_repo.set_password_hash(conn, row["user_id"], new_hash)
        await account_repo.delete_resets_of(conn, row["user_id"])
        await account_repo.delete_sessions(conn, row["user_id"])
        session = await service.start_session_in(conn, settings, row["user_id"], user_agent)
        await audit.record(conn, None, "user.password_reset", actor_user_id=row["user_id"], target_type="user",
                           target_id=row["user_id"], ip=ip)
    return row["user_id"], session
