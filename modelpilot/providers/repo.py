"""Provider rows: one sealed key per (workspace, provider). Every query names its workspace.
(Key rotation, an instance-wide job, runs in providers/keys.py through the *_sync functions.)"""

from __future__ import annotations

from modelpilot.providers.entities import ProviderKey
from modelpilot.core.db import Connection, execute, fetch_all, fetch_all_sync, fetch_one, run_on

PUBLIC_COLUMNS = "provider, key_mask, api_base, created_at, updated_at"


def all_sealed_keys_sync(conn) -> list[dict]:
    """Every workspace's sealed keys, on a blocking connection: key rotation, an instance-wide job."""
    return [dict(row) for row in conn.execute("SELECT workspace_id, provider, sealed_key FROM providers")]


def sample_sealed_key_sync(conn) -> dict | None:
    """One stored key of any workspace (start-up checks that this node's key ring opens it)."""
    row = conn.execute("SELECT workspace_id, provider, sealed_key FROM providers"
                       " ORDER BY workspace_id, provider LIMIT 1").fetchone()
    return dict(row) if row is not None else None


def set_sealed_key_sync(conn, workspace_id: str, provider: str, sealed_key: str) -> None:
    conn.execute("UPDATE providers SET sealed_key = ? WHERE workspace_id = ? AND provider = ?",
                 (sealed_key, workspace_id, provider))


async def list_providers(conn: Connection, workspace_id: str) -> list[ProviderKey]:
    rows = await fetch_all(conn, f"SELECT {PUBLIC_COLUMNS} FROM providers WHERE workspace_id = ? ORDER BY provider",
                           (workspace_id,))
    return [ProviderKey(**row) for row in rows]


async def get_provider(conn: Connection, workspace_id: str, provider: str) -> ProviderKey | None:
    row = await fetch_one(conn, f"SELECT {PUBLIC_COLUMNS}, sealed_key FROM providers"
                                " WHERE workspace_id = ? AND provider = ?", (workspace_id, provider))
    return ProviderKey(**row) if row else None


async def upsert_provider(conn: Connection, workspace_id: str, provider: str, sealed_key: str, key_mask: str,
                          api_base: str | None, now: str) -> None:
    await execute(
        conn,
        "INSERT INTO providers (workspace_id, provider, sealed_key, key_mask, api_base, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT (workspace_id, provider) DO UPDATE SET"
        " sealed_key = excluded.sealed_key, key_mask = excluded.key_mask, api_base = excluded.api_base,"
        " updated_at = excluded.updated_at",
        (workspace_id, provider, sealed_key, key_mask, api_base, now, now),
    )


async def delete_provider(conn: Connection, workspace_id: str, provider: str) -> bool:
    return await execute(conn, "DELETE FROM providers WHERE workspace_id = ? AND provider = ?",
                         (workspace_id, provider)) > 0


def providers_with_keys_sync(conn, workspace_id: str) -> dict[str, ProviderKey]:
    rows = fetch_all_sync(conn, f"SELECT {PUBLIC_COLUMNS}, sealed_key FROM providers WHERE workspace_id = ?",
                          (workspace_id,))
    return {row["provider"]: ProviderKey(**row) for row in rows}


async def providers_with_keys(conn: Connection, workspace_id: str) -> dict[str, ProviderKey]:
    return await run_on(conn, lambda sync: providers_with_keys_sync(sync, workspace_id))
