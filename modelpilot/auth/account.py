"""A signed-in user's own account: display name, password change and sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelpilot.auth import account_repo
from modelpilot.core.access import Principal
from modelpilot.core import audit
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, invalid
from modelpilot.core.passwords import check_password_policy, hash_password, verify_password
from modelpilot.core.ratelimit import Limit, MemoryThrottle, Throttle
from modelpilot.core.validate import clean_text


@dataclass
class AccountLimits:
    """Throttles for account self-service, counted by `throttle` (see AuthLimits).

    Wrong current passwords are limited per user (a stolen session must not become a password
    oracle); reset requests per client address and mails per address (no mail bombing)."""

    throttle: Throttle = field(default_factory=MemoryThrottle)
    wrong_current_password: Limit = Limit("password.wrong_current", 5, 900)
    reset_requests_per_ip: Limit = Limit("reset.requests_ip", 10, 3600)
    reset_mails_per_email: Limit = Limit("reset.mails_email", 3, 3600)
    reset_attempts_per_ip: Limit = Limit("reset.attempts_ip", 20, 3600)


def too_many(wait: int, what: str) -> ApiError:
    return ApiError(429, "rate_limited", f"Too many {what}. Try again in {wait} seconds.",
                    headers={"Retry-After": str(wait)})


async def rename(db: Database, user: Principal, name: str) -> None:
    name = clean_text(name, "name", max_length=100)
    async with db.write() as conn:
        await account_repo.set_name(conn, user.user_id, name)


async def change_password(db: Database, limits: AccountLimits, user: Principal, current: str, new: str,
                          ip: str = "") -> int:
    """Sets a new password after checking the current one; ends the user's other sessions.

    Returns how many other sessions were ended."""
    wait = await limits.throttle.retry_after(limits.wrong_current_password, user.user_id)
    if wait:
        raise too_many(wait, "wrong current passwords")
    async with db.read() as conn:
        stored = await account_repo.password_hash(conn, user.user_id)
    if not await verify_password(stored, current):
        await limits.throttle.hit(limits.wrong_current_password, user.user_id)
        raise invalid("current_password", "is not your current password")
    if new == current:
        raise invalid("new_password", "must differ from the current password")
    check_password_policy(new, user.email or "", field="new_password")
    new_hash = await hash_password(new)
    await limits.throttle.reset(limits.wrong_current_password, user.user_id)
    async with db.write() as conn:
        await account_repo.set_password_hash(conn, user.user_id, new_hash)
        ended = await account_repo.delete_sessions(conn, user.user_id, keep_session_id=user.session_id)
        # A reset link mailed before the change must not undo it.
        await account_repo.delete_resets_of(conn, user.user_id)
        await audit.record(conn, None, "user.password_changed", actor_user_id=user.user_id, target_type="user",
                           target_id=user.user_id, details={"sessions_ended": ended}, ip=ip)
    return ended


async def list_sessions(db: Database, user: Principal) -> list[dict]:
    async with db.read() as conn:
        rows = await account_repo.list_sessions(conn, user.user_id)
    return [{**row, "current": row["id"] == user.session_id} for row in rows]


async def end_other_sessions(db: Database, user: Principal, ip: str = "") -> int:
    async with db.write() as conn:
        ended = await account_repo.delete_sessions(conn, user.user_id, keep_session_id=user.session_id)
        await audit.record(conn, None, "user.sessions_ended", actor_user_id=user.user_id, target_type="user",
                           target_id=user.user_id, details={"sessions_ended": ended}, ip=ip)
    return ended

