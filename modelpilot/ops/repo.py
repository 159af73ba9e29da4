"""The ops domain's own SQL: figures about the database itself, for /metrics."""

from __future__ import annotations


def postgres_database_size(conn) -> int:
    """Bytes the Postgres database takes on its server (the instance's, not a workspace's)."""
    return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
