"""Account self-service queries: profile, password, a user's sessions, password reset tokens.

Like auth/repo.py these belong to the instance, not a workspace: every query is bound to one
user id (from the session) or to the hash of a one-time token.
"""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_value


async def set_name(conn: Connection, user_id: str, name: str) -> None:
    await execute(conn, "UPDATE users SET name = ? WHERE id = ?", (name, user_id))


async def password_hash(conn: Connection, user_id: str) -> str | None:
    return await fetch_value(conn, "SELECT password_hash FROM users WHERE id = ?", (user_id,))


async def set_password_hash(conn: Connection, user_id: str, new_hash: str) -> None:
    await execute(conn, "UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user_id))


async def user_by_email(conn: Connection, email: str) -> dict | None:
    return await fetch_one(conn, "SELECT id, email, name FROM users WHERE email = ?", (email,))


async def list_sessions(conn: Connection, user_id: str) -> list[dict]:
    return await fetch_all(
        conn,
        "SELECT id, created_at, last_seen_at, expires_at, user_agent FROM sessions"
        " WHERE user_id = ? ORDER BY last_seen_at DESC",
        (user_id,),
    )


async def delete_sessions(conn: Connection, user_id: str, keep_session_id: str | None = None) -> int:
    """Ends every session of the user except `keep_session_id` (None: all of them)."""
    return await execute(conn, "DELETE FROM sessions WHERE user_id = ? AND id IS DISTINCT FROM ?", (user_id, keep_session_id))


async def insert_reset(conn: Connection, reset_id: str, user_id: str, token_hash: str, now: str,
                       expires_at: str) -> None:
    await execute(
        conn,
        "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES (?,?,?,?,?)",
        (reset_id, user_id, token_hash, now, expires_at),
    )


async def find_reset(conn: Connection, token_hash: str) -> dict | None:
    return await fetch_one(
        conn,
        "SELECT r.id, r.user_id, r.expires_at, u.email FROM password_resets r JOIN users u ON u.id = r.user_id"
        " WHERE r.token_hash = ?",
        (token_hash,),
    )


async def consume_reset(conn: Connection, reset_id: str) -> int:
    """Deletes the row; 0 when someone else used it first (single use under concurrency)."""
    return await execute(conn, "DELETE FROM password_resets WHERE id = ?", (reset_id,))


async def delete_resets_of(conn: Connection, user_id: str) -> None:
    await execute(conn, "DELETE FROM password_resets WHERE user_id = ?", (user_id,))


async def delete_expired_resets(conn: Connection, now: str) -> int:
    return await execute(conn, "DELETE FROM password_resets WHERE expires_at < ?", (now,))
