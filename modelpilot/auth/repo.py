"""Users and sessions. Accounts belong to the instance, not to one workspace, so these
queries are not workspace-scoped; everything a user can reach goes through memberships."""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_one, fetch_value

USER_COLUMNS = "id, email, name, is_owner, created_at, last_login_at"


def count_users_sync(conn) -> int:
    """On a blocking connection: the CLI asks before the server runs."""
    return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])


async def count_users(conn: Connection) -> int:
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM users"))


async def insert_user(conn: Connection, user_id: str, email: str, name: str, password_hash: str,
                      is_owner: bool, now: str) -> None:
    await execute(
        conn,
        "INSERT INTO users (id, email, name, password_hash, is_owner, created_at) VALUES (?,?,?,?,?,?)",
        (user_id, email, name, password_hash, int(is_owner), now),
    )


async def get_user(conn: Connection, user_id: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,))


async def get_user_with_hash(conn: Connection, email: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?", (email,))


async def record_login(conn: Connection, user_id: str, now: str, new_hash: str | None) -> None:
    await execute(
        conn,
        "UPDATE users SET last_login_at = ?, password_hash = COALESCE(?, password_hash) WHERE id = ?",
        (now, new_hash, user_id),
    )


async def insert_session(conn: Connection, session_id: str, user_id: str, token_hash: str, now: str,
                         expires_at: str, user_agent: str) -> None:
    await execute(
        conn,
        "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, user_agent)"
        " VALUES (?,?,?,?,?,?,?)",
        (session_id, user_id, token_hash, now, now, expires_at, user_agent[:300]),
    )


async def find_session(conn: Connection, token_hash: str) -> dict | None:
    return await fetch_one(
        conn,
        "SELECT s.id AS session_id, s.user_id, s.last_seen_at, s.expires_at, u.email, u.is_owner"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (token_hash,),
    )


async def touch_session(conn: Connection, session_id: str, now: str) -> None:
    await execute(conn, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", (now, session_id))


async def delete_session(conn: Connection, session_id: str) -> None:
    await execute(conn, "DELETE FROM sessions WHERE id = ?", (session_id,))


async def delete_expired_sessions(conn: Connection, now: str, idle_cutoff: str) -> int:
    return await execute(conn, "DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?", (now, idle_cutoff))
