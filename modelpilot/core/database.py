"""The configured database: Postgres when MODELPILOT_DATABASE_URL is set, else SQLite."""

from __future__ import annotations

from typing import Any

from modelpilot.core.db import Database, SqliteDatabase, connect_sync
from modelpilot.core.pg import PostgresDatabase
from modelpilot.core.pg import connect_sync as connect_postgres


def open_database(settings: Any, readers: int | None = None) -> Database:
    """The configured database, not yet opened: Postgres when MODELPILOT_DATABASE_URL is set,
    else the SQLite file in the data directory."""
    count = settings.db_readers if readers is None else readers
    if settings.database_url:
        return PostgresDatabase(settings.database_url, readers=count, writers=min(count, 2))
    return SqliteDatabase(settings.db_path, readers=count)


def connect_sync_for(settings: Any, *, readonly: bool = False) -> Any:
    """A blocking connection to the configured database (CLI jobs, tests)."""
    if settings.database_url:
        return connect_postgres(settings.database_url)
    return connect_sync(settings.db_path, readonly=readonly)
