"""Plain-SQL migrations: NNNN_name.sql files applied in order, each in one transaction."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from modelpilot.core.db import connect_sync
from modelpilot.core.ids import utc_now_iso
from modelpilot.paths import package_resource

log = logging.getLogger("modelpilot.migrate")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# A migration that rebuilds a table others reference starts with this line: foreign keys are off
# while it runs (SQLite's documented way to rebuild a table) and checked before it commits.
FOREIGN_KEYS_OFF = "-- foreign_keys: off"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or package_resource("migrations")
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise RuntimeError(f"migration file name not of the form NNNN_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


def applied_versions(conn) -> set[int]:
    """Every version recorded: a migration is applied when its number is missing, even below the
    highest (branches merged in another order leave a gap that a later file fills)."""
    current_version(conn)  # creates the table on a new database
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_version").fetchall()}


def current_version(conn) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def apply_migrations(db_path: Path, directory: Path | None = None) -> list[str]:
    """Bring the database at db_path up to date; returns the names applied now."""
    conn = connect_sync(db_path)  # creates the data directory and the file, both private
    applied: list[str] = []
    try:
        done = applied_versions(conn)
        for migration in available_migrations(directory):
            if migration.version in done:
                continue
            _apply_one(conn, migration)
            applied.append(f"{migration.version:04d}_{migration.name}")
            log.info("applied migration %04d_%s", migration.version, migration.name)
    finally:
        conn.close()
    return applied


# pg_advisory_lock key for migrations ("MPMIGR"): nodes starting together take turns.
_PG_MIGRATE_LOCK = 0x4D504D494752


def migrate_database(settings) -> list[str]:
    """Bring the configured database (SQLite file or Postgres) up to date."""
    if settings.database_url:
        return apply_postgres_migrations(settings.database_url)
    return apply_migrations(settings.db_path)


def apply_postgres_migrations(url: str, directory: Path | None = None) -> list[str]:
    """The Postgres migrations (migrations/postgres/NNNN_name.sql), each file and its
    schema_version row in one transaction; two nodes starting at once apply them once."""
    from modelpilot.core.pg import PostgresUnavailable, connect_sync as connect_postgres

    conn = connect_postgres(url)
    applied: list[str] = []
    try:
        conn.execute("SELECT pg_advisory_lock(?)", (_PG_MIGRATE_LOCK,))
        _require_pgvector(conn, url, PostgresUnavailable)
        done = applied_versions(conn)
        for migration in available_migrations(directory or package_resource("migrations") / "postgres"):
            if migration.version in done:
                continue
            conn.execute("BEGIN")
            try:
                conn.executescript(migration.sql)
                conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                             (migration.version, migration.name, utc_now_iso()))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            applied.append(f"{migration.version:04d}_{migration.name}")
            log.info("applied migration %04d_%s (postgres)", migration.version, migration.name)
    finally:
        conn.close()  # ends the session, and with it the advisory lock
    return applied


def _require_pgvector(conn, url: str, error: type[Exception]) -> None:
    installed = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
    if installed:
        return
    from modelpilot.core.pg import describe_url

    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    if not available:
        raise error(f"the Postgres server at {describe_url(url)} has no pgvector extension "
                    "(install pgvector 0.8 or newer, or use a managed Postgres that offers it)")
    import psycopg

    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise error(f"pgvector is not enabled in {describe_url(url)} and this user cannot enable it "
                    f"({reason}); run CREATE EXTENSION vector; in that database once as a superuser") from None


def _apply_one(conn, migration: Migration) -> None:
    # executescript runs the statements as written; the explicit BEGIN/COMMIT makes the whole
    # file, and its schema_version row, one transaction.
    keys_off = migration.sql.lstrip().startswith(FOREIGN_KEYS_OFF)
    script = (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql}\n;\n"
        "INSERT INTO schema_version (version, name, applied_at) "
        f"VALUES ({migration.version}, '{migration.name}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));\n"
    )
    if keys_off:
        conn.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
    try:
        conn.executescript(script)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall() if keys_off else []
        if broken:
            raise RuntimeError(f"migration {migration.version:04d}_{migration.name} leaves "
                               f"{len(broken)} rows with a broken foreign key")
        conn.execute("COMMIT")
    except Exception:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if keys_off:
            conn.execute("PRAGMA foreign_keys=ON")
