"""Compacting FTS5 indexes so deleted text is really gone.

An FTS5 'delete' only adds a tombstone: the deleted words stay inside the index segments (the
`*_data` shadow table) until segments are merged. After erasing a tenant or a conversation, an
'optimize' merges everything into one segment and drops them. It rewrites the index (about 1.5 s
for 200k messages on a small machine), so it runs only after deletions, each table in its own
short write transaction.
"""

from __future__ import annotations

from modelpilot.core.db import Connection, Database, dialect, fetch_all

_FTS5_TABLES = ("SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'")


async def fts5_tables(conn: Connection) -> list[str]:
    if dialect(conn) == "postgres":
        return []  # tsvector columns in ordinary tables: deleted rows go with VACUUM, no segments
    return [row["name"] for row in await fetch_all(conn, _FTS5_TABLES)]


async def compact(db: Database, tables: tuple[str, ...] | None = None) -> list[str]:
    """Optimize the named FTS5 tables (default: all of them); returns the ones compacted."""
    async with db.read() as conn:
        existing = await fts5_tables(conn)
    chosen = [name for name in existing if tables is None or name in tables]
    for name in chosen:
        async with db.write() as conn:
            # The name comes from sqlite_master, never from a request.
            await conn.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'optimize\')')
    return chosen
