"""Accounts: first-run setup, signup, login, sessions, and resolving who is calling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from modelpilot.auth import repo
from modelpilot.core.access import Principal
from modelpilot.core import audit
from modelpilot.core.database import connect_sync_for, open_database
from modelpilot.core.db import Database, IntegrityError
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import epoch_from_iso, iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from modelpilot.core.ratelimit import Limit, MemoryThrottle, Throttle
from modelpilot.core.tokens import hash_token, new_secret
from modelpilot.core.validate import clean_email, clean_text
from modelpilot.settings import Settings
from modelpilot.workspaces import service as workspaces

TOUCH_EVERY_SECONDS = 60
LOGIN_FAILED = ApiError(401, "invalid_credentials", "Email or password is wrong.")


@dataclass
class AuthLimits:
    """Throttles on failed logins, per account and per client address, counted by `throttle`
    (in memory on one SQLite node, in the database for a Postgres fleet)."""

    throttle: Throttle = field(default_factory=MemoryThrottle)
    per_account: Limit = Limit("login.account", 5, 900)
    per_ip: Limit = Limit("login.ip", 10, 900)
    signups_per_ip: Limit = Limit("signup.ip", 10, 3600)


@dataclass(frozen=True)
class NewAccount:
    email: str
    password: str
    name: str
    workspace_name: str


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


def too_many(wait: int, what: str) -> ApiError:
    return ApiError(429, "rate_limited", f"Too many {what}. Try again in {wait} seconds.",
                    headers={"Retry-After": str(wait)})


async def validate_new_user(email: str, password: str, name: str) -> tuple[str, str, str]:
    email = clean_email(email)
    name = clean_text(name or email.split("@")[0], "name", max_length=100)
    check_password_policy(password, email)
    return email, name, await hash_password(password)


async def create_user_in(conn, email: str, name: str, password_hash: str, is_owner: bool) -> dict:
    user_id = new_id()
    try:
        await repo.insert_user(conn, user_id, email, name, password_hash, is_owner, utc_now_iso())
    except IntegrityError:
        raise ApiError(409, "email_taken", "An account with this email exists; log in instead.",
                       [{"field": "email", "message": "is already registered"}]) from None
    return await repo.get_user(conn, user_id)


async def create_account(db: Database, account: NewAccount, *, first_run: bool, ip: str = "") -> dict:
    """A user with their own workspace. first_run=True only succeeds on an instance with no user."""
    email, name, password_hash = await validate_new_user(account.email, account.password, account.name)
    workspace_name = clean_text(account.workspace_name, "workspace_name", max_length=100)
    async with db.write() as conn:
        if first_run and await repo.count_users(conn) > 0:
            raise ApiError(409, "setup_done", "This instance is already set up; log in instead.")
        user = await create_user_in(conn, email, name, password_hash, is_owner=first_run)
        ws = await workspaces.create_workspace_in(conn, user["id"], workspace_name)
        await audit.record(conn, ws["id"], "user.created", actor_user_id=user["id"],
                           target_type="user", target_id=user["id"], ip=ip)
    return user


async def create_owner_headless(settings: Settings, email: str, name: str, password: str, workspace_name: str) -> dict:
    """`modelpilot create-admin`: the owner account on a server that is not running yet."""
    from modelpilot.core.migrate import migrate_database

    migrate_database(settings)
    db = open_database(settings, readers=1)
    await db.open()
    try:
        account = NewAccount(email, password, name, workspace_name)
        async with db.read() as conn:
            first = await repo.count_users(conn) == 0
        return await create_account(db, account, first_run=first)
    finally:
        await db.close()


async def accept_invitation_as_new_user(db: Database, settings: Settings, token: str, email: str, password: str,
                                        name: str, ip: str) -> dict:
    """Create the invited person's account and join them, in one transaction."""
    email, name, password_hash = await validate_new_user(email, password, name)
    async with db.write() as conn:
        invitation = await workspaces.open_invitation_in(conn, token)
        if invitation["email"].lower() != email:
            raise ApiError(400, "validation_error", "email: must be the address the invitation was sent to",
                           [{"field": "email", "message": "must be the invited address"}])
        user = await create_user_in(conn, email, name, password_hash, is_owner=False)
        await workspaces.join_in(conn, invitation, user["id"], ip, settings=settings)
    return user


async def setup_needed(db: Database) -> bool:
    async with db.read() as conn:
        return await repo.count_users(conn) == 0


async def login(db: Database, settings: Settings, limits: AuthLimits, email: str, password: str,
                ip: str, user_agent: str) -> tuple[dict, str]:
    """Returns (user, session token). Unknown emails cost the same as wrong passwords."""
    account_key = email.strip().lower()
    await _count_attempt(limits, account_key, ip)
    async with db.read() as conn:
        row = await repo.get_user_with_hash(conn, account_key)
    ok = await verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None:
        raise LOGIN_FAILED
    # Only failures count against the address and the account; a success gives its slot back.
    await limits.throttle.forget_one(limits.per_ip, ip)
    await limits.throttle.reset(limits.per_account, account_key)
    new_hash = await hash_password(password) if needs_rehash(row["password_hash"]) else None
    async with db.write() as conn:
        await repo.record_login(conn, row["id"], utc_now_iso(), new_hash)
        token = await start_session_in(conn, settings, row["id"], user_agent)
        await audit.record(conn, None, "user.login", actor_user_id=row["id"], target_type="user",
                           target_id=row["id"], ip=ip)
    row.pop("password_hash")
    return row, token


async def _count_attempt(limits: AuthLimits, account_key: str, ip: str) -> None:
    """Count the attempt before any password is hashed, check and count in one step: checking
    first and counting after the (slow, threaded) hash let 200 parallel guesses all pass the
    check before the first one was counted. Counted on both keys or on neither."""
    wait = await limits.throttle.take((limits.per_account, account_key), (limits.per_ip, ip))
    if wait:
        raise too_many(wait, "failed logins")


async def start_session_in(conn, settings: Settings, user_id: str, user_agent: str = "") -> str:
    """A fresh random session token (never reused across logins); only its hash is stored."""
    token = new_secret(32)
    now = _now()
    expires = iso_from_epoch(now + settings.session_max_hours * 3600)
    # Logins are rare, so this is where dead sessions are swept: no table grows without bound.
    await repo.delete_expired_sessions(conn, iso_from_epoch(now), iso_from_epoch(now - settings.session_idle_hours * 3600))
    await repo.insert_session(conn, new_id(), user_id, hash_token(token), utc_now_iso(), expires, user_agent)
    return token


async def logout(db: Database, principal: Principal) -> None:
    if principal.session_id:
        async with db.write() as conn:
            await repo.delete_session(conn, principal.session_id)


async def principal_from_session(db: Database, settings: Settings, token: str) -> Principal | None:
    async with db.read() as conn:
        row = await repo.find_session(conn, hash_token(token))
    if row is None:
        return None
    now = _now()
    idle_for = now - epoch_from_iso(row["last_seen_at"])
    if now > epoch_from_iso(row["expires_at"]) or idle_for > settings.session_idle_hours * 3600:
        async with db.write() as conn:
            await repo.delete_session(conn, row["session_id"])
        return None
    if idle_for > TOUCH_EVERY_SECONDS:
        async with db.write() as conn:
            await repo.touch_session(conn, row["session_id"], utc_now_iso())
    return Principal(user_id=row["user_id"], email=row["email"], session_id=row["session_id"],
                     is_owner=bool(row["is_owner"]))


async def principal_from_api_token(db: Database, token: str) -> Principal | None:
    row = await workspaces.find_api_token(db, hash_token(token))
    if row is None:
        return None
    return Principal(token_id=row["id"], token_workspace_id=row["workspace_id"], token_role=row["role"])


async def me(db: Database, user_id: str) -> dict:
    async with db.read() as conn:
        user = await repo.get_user(conn, user_id)
    return {"user": public_user(user), "workspaces": await workspaces.list_for_user(db, user_id)}


def public_user(user: dict) -> dict:
    return {"id": user["id"], "email": user["email"], "name": user["name"],
            "is_owner": bool(user["is_owner"]), "created_at": user["created_at"]}


def session_seconds(settings: Settings) -> int:
    return settings.session_max_hours * 3600


def instance_has_users_sync(settings: Settings) -> bool:
    """For the CLI, before any server runs: has anyone set the instance up yet?"""
    conn = connect_sync_for(settings)
    try:
        return repo.count_users_sync(conn) > 0
    finally:
        conn.close()
