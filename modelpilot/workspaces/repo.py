"""Workspaces, memberships, invitations and API tokens. Every query names its workspace."""

from __future__ import annotations

from modelpilot.core.db import Connection, dialect, execute, fetch_all, fetch_one, fetch_value

WS_COLUMNS = "id, name, settings, created_at, updated_at"


async def insert_workspace(conn: Connection, workspace_id: str, name: str, now: str, created_by: str) -> None:
    await execute(conn, "INSERT INTO workspaces (id, name, settings, created_at, updated_at, created_by)"
                        " VALUES (?,?,?,?,?,?)", (workspace_id, name, "{}", now, now, created_by))


async def count_workspaces_created_by(conn: Connection, user_id: str) -> int:
    """Not workspace-scoped: the limit is on one user's workspaces across the instance."""
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM workspaces WHERE created_by = ?", (user_id,)))


async def get_workspace(conn: Connection, workspace_id: str) -> dict | None:
    return await fetch_one(conn, f"SELECT {WS_COLUMNS} FROM workspaces WHERE id = ?", (workspace_id,))


async def update_workspace(conn: Connection, workspace_id: str, name: str, settings_json: str, now: str) -> None:
    await execute(conn, "UPDATE workspaces SET name = ?, settings = ?, updated_at = ? WHERE id = ?",
                  (name, settings_json, now, workspace_id))


async def delete_workspace(conn: Connection, workspace_id: str) -> None:
    await execute(conn, "DELETE FROM workspaces WHERE id = ?", (workspace_id,))


# settings is JSON text on both backends. Postgres: `IS JSON OBJECT` stands for json_valid (a bad
# value must be skipped, not fail the whole job), and only a JSON number counts, as json_extract's
# numeric comparison does on SQLite.
_RETENTION_POLICIES = {
    "sqlite": "SELECT id, json_extract(settings, '$.retention_days') AS days FROM workspaces"
              " WHERE json_valid(settings) AND json_extract(settings, '$.retention_days') > 0",
    "postgres": "SELECT id, days FROM (SELECT id, CASE WHEN jsonb_typeof(s -> 'retention_days') = 'number'"
                " THEN (s ->> 'retention_days')::numeric END AS days"
                " FROM (SELECT id, CASE WHEN settings IS JSON OBJECT THEN settings::jsonb END AS s"
                " FROM workspaces) AS parsed) AS policies WHERE days > 0",
}


async def retention_policies(conn: Connection) -> list[tuple[str, int]]:
    """(workspace_id, retention_days) of every workspace that set a retention period."""
    rows = await fetch_all(conn, _RETENTION_POLICIES[dialect(conn)])
    return [(row["id"], int(row["days"])) for row in rows]


async def member_role(conn: Connection, workspace_id: str, user_id: str) -> str | None:
    return await fetch_value(conn, "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
                             (workspace_id, user_id))


async def workspaces_of_user(conn: Connection, user_id: str) -> list[dict]:
    return await fetch_all(
        conn,
        "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id"
        " WHERE m.user_id = ? ORDER BY w.created_at, w.id",
        (user_id,),
    )


async def upsert_member(conn: Connection, workspace_id: str, user_id: str, role: str, now: str) -> None:
    await execute(
        conn,
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?,?,?,?)"
        " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
        (workspace_id, user_id, role, now),
    )


async def list_members(conn: Connection, workspace_id: str) -> list[dict]:
    return await fetch_all(
        conn,
        "SELECT u.id AS user_id, u.email, u.name, m.role, m.created_at AS joined_at, m.notify_waiting FROM memberships m"
        " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? ORDER BY m.created_at, u.email",
        (workspace_id,),
    )


async def count_members(conn: Connection, workspace_id: str, role: str | None = None) -> int:
    return int(await fetch_value(
        conn, "SELECT COUNT(*) FROM memberships WHERE workspace_id = ? AND (CAST(? AS TEXT) IS NULL OR role = ?)",
        (workspace_id, role, role)))


async def count_pending_invitations(conn: Connection, workspace_id: str, now: str) -> int:
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM invitations WHERE workspace_id = ?"
                                       " AND accepted_at IS NULL AND expires_at > ?", (workspace_id, now)))


async def workspace_exists(conn: Connection, workspace_id: str) -> bool:
    return await fetch_value(conn, "SELECT 1 FROM workspaces WHERE id = ?", (workspace_id,)) is not None


async def find_workspaces(conn: Connection, ref: str) -> list[dict]:
    """Instance-owner lookup for the CLI: a workspace by id, else by exact name."""
    by_id = await fetch_all(conn, "SELECT id, name FROM workspaces WHERE id = ?", (ref,))
    return by_id or await fetch_all(conn, "SELECT id, name FROM workspaces WHERE name = ? ORDER BY id", (ref,))


async def set_member_role(conn: Connection, workspace_id: str, user_id: str, role: str) -> None:
    await execute(conn, "UPDATE memberships SET role = ? WHERE workspace_id = ? AND user_id = ?",
                  (role, workspace_id, user_id))


async def delete_member(conn: Connection, workspace_id: str, user_id: str) -> None:
    await execute(conn, "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id))


async def insert_invitation(conn: Connection, workspace_id: str, row: dict) -> None:
    await execute(
        conn,
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, token_sealed, invited_by, created_at,"
        " expires_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (row["id"], workspace_id, row["email"], row["role"], row["token_hash"], row.get("token_sealed"),
         row["invited_by"], row["created_at"], row["expires_at"]),
    )


async def list_invitations(conn: Connection, workspace_id: str) -> list[dict]:
    return await fetch_all(
        conn,
        "SELECT id, email, role, created_at, expires_at, accepted_at, token_sealed FROM invitations"
        " WHERE workspace_id = ? ORDER BY created_at DESC",
        (workspace_id,),
    )


async def open_invitations_for(conn: Connection, workspace_id: str, email: str) -> list[dict]:
    """Invitations to `email` not accepted yet (expired ones included)."""
    return await fetch_all(
        conn, "SELECT id, expires_at FROM invitations WHERE workspace_id = ? AND email = ? AND accepted_at IS NULL",
        (workspace_id, email))


async def member_by_email(conn: Connection, workspace_id: str, email: str) -> dict | None:
    return await fetch_one(
        conn,
        "SELECT u.id AS user_id, m.role FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.workspace_id = ? AND u.email = ?",
        (workspace_id, email),
    )


async def delete_invitation(conn: Connection, workspace_id: str, invitation_id: str) -> int:
    return await execute(conn, "DELETE FROM invitations WHERE workspace_id = ? AND id = ? AND accepted_at IS NULL",
                         (workspace_id, invitation_id))


async def find_invitation_by_hash(conn: Connection, token_hash: str) -> dict | None:
    """Authentication lookup: the token itself names the workspace, so none is passed."""
    return await fetch_one(
        conn,
        "SELECT i.id, i.workspace_id, i.email, i.role, i.expires_at, i.accepted_at, w.name AS workspace_name"
        " FROM invitations i JOIN workspaces w ON w.id = i.workspace_id WHERE i.token_hash = ?",
        (token_hash,),
    )


async def mark_invitation_accepted(conn: Connection, workspace_id: str, invitation_id: str, user_id: str,
                                   now: str) -> None:
    await execute(conn, "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE workspace_id = ? AND id = ?",
                  (now, user_id, workspace_id, invitation_id))


async def insert_api_token(conn: Connection, workspace_id: str, row: dict) -> None:
    await execute(
        conn,
        "INSERT INTO api_tokens (id, workspace_id, name, role, token_hash, prefix, created_by, created_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (row["id"], workspace_id, row["name"], row["role"], row["token_hash"], row["prefix"],
         row["created_by"], row["created_at"]),
    )


async def list_api_tokens(conn: Connection, workspace_id: str) -> list[dict]:
    return await fetch_all(
        conn,
        "SELECT id, name, role, prefix, created_at, last_used_at, revoked_at FROM api_tokens"
        " WHERE workspace_id = ? ORDER BY created_at DESC",
        (workspace_id,),
    )


async def revoke_api_token(conn: Connection, workspace_id: str, token_id: str, now: str) -> int:
    return await execute(conn, "UPDATE api_tokens SET revoked_at = ? WHERE workspace_id = ? AND id = ?"
                         " AND revoked_at IS NULL", (now, workspace_id, token_id))


async def get_api_token(conn: Connection, workspace_id: str, token_id: str) -> dict | None:
    return await fetch_one(conn, "SELECT id, revoked_at FROM api_tokens WHERE workspace_id = ? AND id = ?",
                           (workspace_id, token_id))


async def find_api_token_by_hash(conn: Connection, token_hash: str) -> dict | None:
    """Authentication lookup: the token itself names the workspace, so none is passed."""
    return await fetch_one(
        conn, "SELECT id, workspace_id, role, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash,),
    )


async def touch_api_token(conn: Connection, workspace_id: str, token_id: str, now: str) -> None:
    await execute(conn, "UPDATE api_tokens SET last_used_at = ? WHERE workspace_id = ? AND id = ?",
                  (now, workspace_id, token_id))


async def set_notify_waiting(conn: Connection, workspace_id: str, user_id: str, value: bool) -> int:
    return await execute(conn, "UPDATE memberships SET notify_waiting = ? WHERE workspace_id = ? AND user_id = ?",
                         (int(value), workspace_id, user_id))


async def member_card(conn: Connection, workspace_id: str, user_id: str) -> dict | None:
    """A member's role and the name an operator is shown by (name, else e-mail)."""
    return await fetch_one(
        conn,
        "SELECT u.id, COALESCE(NULLIF(u.name, ''), u.email) AS name, m.role FROM memberships m"
        " JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? AND m.user_id = ?",
        (workspace_id, user_id),
    )


async def notify_waiting_emails(conn: Connection, workspace_id: str, roles: tuple[str, ...]) -> list[str]:
    marks = ",".join("?" * len(roles))
    rows = await fetch_all(
        conn,
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ?"
        f" AND m.notify_waiting = 1 AND m.role IN ({marks}) ORDER BY u.email",
        (workspace_id, *roles),
    )
    return [row["email"] for row in rows]
