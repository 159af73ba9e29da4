"""Chatbot rows. Every query names its workspace."""

from __future__ import annotations

import json

from modelpilot.chatbots.entities import Bot
from modelpilot.chatbots import lead_form_config
from modelpilot.chatbots.handoff_config import with_defaults
from modelpilot.core.db import Connection, execute, fetch_all, fetch_one, fetch_one_sync, fetch_value, run_on

COLUMNS = (
    "id, workspace_id, name, slug, system_prompt, model, temperature, max_tokens, greeting, accent_color, position,"
    " starter_questions, allowed_origins, published, top_k, score_threshold, handoff, lead_form, visitor_context,"
    " tools, max_tool_rounds, created_at, updated_at"
)
JSON_FIELDS = ("starter_questions", "allowed_origins", "handoff", "lead_form", "tools")
FLAG_FIELDS = ("published", "visitor_context")
# Read, never written through insert/update: whether an identity secret is set, and since when.
SELECTED = COLUMNS + ", identity_secret IS NOT NULL AS identity_configured, identity_created_at"


def _decode(row: dict | None) -> Bot | None:
    if row is None:
        return None
    for name in JSON_FIELDS:
        row[name] = json.loads(row[name])
    for name in FLAG_FIELDS:
        row[name] = bool(row[name])
    row["handoff"] = with_defaults(row["handoff"])
    row["lead_form"] = lead_form_config.with_defaults(row["lead_form"])
    row["identity"] = {"configured": bool(row.pop("identity_configured")),
                       "created_at": row.pop("identity_created_at")}
    return Bot(**row)


async def insert_bot(conn: Connection, workspace_id: str, bot: dict) -> None:
    values = {**bot, "workspace_id": workspace_id}
    for name in JSON_FIELDS:
        values[name] = json.dumps(values[name])
    for name in FLAG_FIELDS:
        values[name] = int(values[name])
    names = [c.strip() for c in COLUMNS.split(",")]
    await execute(conn, f"INSERT INTO chatbots ({COLUMNS}) VALUES ({','.join('?' * len(names))})",
                  [values[n] for n in names])


async def count_bots(conn: Connection, workspace_id: str) -> int:
    return int(await fetch_value(conn, "SELECT COUNT(*) FROM chatbots WHERE workspace_id = ?", (workspace_id,)))


def get_bot_sync(conn, workspace_id: str, bot_id: str) -> Bot | None:
    return _decode(fetch_one_sync(conn, f"SELECT {SELECTED} FROM chatbots WHERE workspace_id = ? AND id = ?",
                                  (workspace_id, bot_id)))


async def get_bot(conn: Connection, workspace_id: str, bot_id: str) -> Bot | None:
    return await run_on(conn, lambda sync: get_bot_sync(sync, workspace_id, bot_id))


async def list_bots(conn: Connection, workspace_id: str) -> list[Bot]:
    rows = await fetch_all(conn, f"SELECT {SELECTED} FROM chatbots WHERE workspace_id = ? ORDER BY created_at, id",
                           (workspace_id,))
    return [_decode(row) for row in rows]


async def update_bot(conn: Connection, workspace_id: str, bot_id: str, changes: dict) -> None:
    values = dict(changes)
    for name in JSON_FIELDS:
        if name in values:
            values[name] = json.dumps(values[name])
    for name in FLAG_FIELDS:
        if name in values:
            values[name] = int(values[name])
    assignments = ", ".join(f"{name} = ?" for name in values)  # names come from the schema, not the client
    await execute(conn, f"UPDATE chatbots SET {assignments} WHERE workspace_id = ? AND id = ?",
                  [*values.values(), workspace_id, bot_id])


async def delete_bot(conn: Connection, workspace_id: str, bot_id: str) -> bool:
    return await execute(conn, "DELETE FROM chatbots WHERE workspace_id = ? AND id = ?", (workspace_id, bot_id)) > 0


async def find_bot_by_name(conn: Connection, workspace_id: str, id_or_slug: str) -> Bot | None:
    """The bot whose id or slug this is (an id wins: slugs are lower case, ids upper)."""
    return _decode(await fetch_one(
        conn, f"SELECT {SELECTED} FROM chatbots WHERE workspace_id = ? AND (id = ? OR slug = ?)"
              " ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1",
        (workspace_id, id_or_slug, id_or_slug, id_or_slug)))


async def slugs_starting(conn: Connection, workspace_id: str, prefix: str) -> set[str]:
    """The workspace's slugs that begin with prefix (candidates a new slug must not meet)."""
    rows = await fetch_all(conn, "SELECT slug FROM chatbots WHERE workspace_id = ? AND substr(slug, 1, ?) = ?",
                           (workspace_id, len(prefix), prefix))
    return {row["slug"] for row in rows}


async def slug_owner(conn: Connection, workspace_id: str, slug: str) -> str | None:
    return await fetch_value(conn, "SELECT id FROM chatbots WHERE workspace_id = ? AND slug = ?", (workspace_id, slug))


async def models_in_use(conn: Connection) -> list[str]:
    """The distinct models of every bot of the instance (start-up's choice to import LiteLLM)."""
    return [row["model"] for row in await fetch_all(conn, "SELECT DISTINCT model FROM chatbots")]


def workspace_of_bot_sync(conn, bot_id: str) -> str | None:
    """The one lookup by bot id alone: a public widget call names only its bot. The answer
    scopes every later query to that workspace."""
    row = fetch_one_sync(conn, "SELECT workspace_id FROM chatbots WHERE id = ?", (bot_id,))
    return row["workspace_id"] if row else None


async def set_identity_secret(conn: Connection, workspace_id: str, bot_id: str, sealed: str | None,
                              created_at: str | None) -> bool:
    return await execute(conn, "UPDATE chatbots SET identity_secret = ?, identity_created_at = ?"
                               " WHERE workspace_id = ? AND id = ?", (sealed, created_at, workspace_id, bot_id)) > 0


async def identity_secret(conn: Connection, workspace_id: str, bot_id: str) -> str | None:
    """The sealed identity secret of the bot, or None when verification is off."""
    return await fetch_value(conn, "SELECT identity_secret FROM chatbots WHERE workspace_id = ? AND id = ?",
                             (workspace_id, bot_id))


def all_sealed_identity_secrets_sync(conn) -> list[dict]:
    """Every bot's sealed identity secret, across workspaces: only `modelpilot rotate-key` asks."""
    rows = conn.execute("SELECT id, workspace_id, identity_secret FROM chatbots"
                        " WHERE identity_secret IS NOT NULL").fetchall()
    return [{key: row[key] for key in row.keys()} for row in rows]


def set_sealed_identity_secret_sync(conn, workspace_id: str, bot_id: str, sealed: str) -> None:
    conn.execute("UPDATE chatbots SET identity_secret = ? WHERE workspace_id = ? AND id = ?",
                 (sealed, workspace_id, bot_id))
