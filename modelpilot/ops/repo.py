"""Instance-wide figures for /metrics that only the database can tell."""

from __future__ import annotations

from modelpilot.core.db import Connection, fetch_value


async def postgres_database_bytes(conn: Connection) -> int:
    """On Postgres the database is no file in the data directory: ask the server its size."""
    return int(await fetch_value(conn, "SELECT pg_database_size(current_database())"))
