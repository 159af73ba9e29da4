"""`modelpilot copy-db --to postgresql://...`: move a SQLite instance onto an empty Postgres.

Every table the Postgres schema has is filled from the SQLite table of the same name, in one
transaction that also holds the fleet's write lock; row counts and a sample of vectors are
compared before it commits, so the target ends either with the whole instance or with nothing.
Derived data is not copied but rebuilt by Postgres itself: full-text columns are generated.
Sealed values (provider keys, invitation links) travel as they are: the nodes need the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from modelpilot.core.db import connect_sync as connect_sqlite
from modelpilot.core.migrate import apply_postgres_migrations
from modelpilot.core.pg import WRITE_LOCK_KEY, PostgresUnavailable, describe_url
from modelpilot.ops import copy_repo as repo
from modelpilot.ops.copy_repo import VECTOR_TABLE

NOT_COPIED = {"schema_version",  # each side keeps its own migration history
              "chunk_terms",     # Postgres's per-bot word counts: its triggers count the chunks as they are copied
              "vector_generations"}  # SQLite's in-memory vector scan checks these; Postgres has its HNSW index
VECTOR_SAMPLE = 5


class CopyError(RuntimeError):
    """The copy cannot go ahead or did not verify; the message says why in one line."""


@dataclass
class CopyReport:
    source: Path
    target: str
    schema_version: int
    counts: list[tuple[str, int]] = field(default_factory=list)
    vectors_checked: int = 0
    sequences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TablePlan:
    name: str
    columns: list[str]          # in the target's order
    bytea: frozenset[int]       # positions of bytea columns (SQLite may hold text there)


def copy_database(db_path: Path, url: str, progress: Callable[[str], None] = lambda line: None) -> CopyReport:
    """Copy the SQLite database at db_path into the (empty) Postgres database at url."""
    if not Path(db_path).exists():
        raise CopyError(f"no SQLite database at {db_path}")
    apply_postgres_migrations(url)
    source = connect_sqlite(db_path, readonly=True)
    try:
        repo.sqlite_begin_read(source)
        target = _connect_target(url)
        try:
            report = _copy(source, target, Path(db_path), url, progress)
            target.commit()
        finally:
            target.close()  # an uncommitted transaction is rolled back here
    finally:
        source.close()
    return report


def _connect_target(url: str):
    import psycopg

    try:
        return psycopg.connect(url, autocommit=False, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise PostgresUnavailable(f"cannot connect to {describe_url(url)}: {' '.join(str(exc).split())}") from None


def _copy(source, target, db_path: Path, url: str, progress: Callable[[str], None]) -> CopyReport:
    repo.pg_lock_writes(target, WRITE_LOCK_KEY)
    version = _same_schema_version(source, target)
    plans = _plan(source, target)
    _require_empty(target, [plan.name for plan in plans])
    report = CopyReport(db_path, describe_url(url), version)
    for plan in plans:
        count = _copy_table(source, target, plan)
        report.counts.append((plan.name, count))
        progress(f"  {plan.name:<24} {count:>9} rows")
    report.sequences = repo.pg_reset_sequences(target)
    _verify_counts(source, target, report.counts)
    report.vectors_checked = _verify_vectors(source, target)
    return report


def _same_schema_version(source, target) -> int:
    mine, theirs = repo.sqlite_schema_version(source), repo.pg_schema_version(target)
    if mine != theirs:
        raise CopyError(f"schema versions differ: the SQLite database is at {mine}, Postgres at {theirs}; "
                        "run `modelpilot migrate` on the SQLite instance with this version of ModelPilot first")
    return mine


def _plan(source, target) -> list[TablePlan]:
    """The target's tables in foreign-key order, each with the columns both sides have."""
    present = repo.sqlite_tables(source)
    wanted = [t for t in repo.pg_tables(target) if t not in NOT_COPIED]
    missing = [t for t in wanted if t not in present]
    left_over = sorted(t for t, kind in present.items()
                       if kind == "table" and t not in wanted and t not in NOT_COPIED)
    if missing or left_over:
        raise CopyError(f"the two schemas differ (only in Postgres: {', '.join(missing) or 'none'}; "
                        f"only in SQLite: {', '.join(left_over) or 'none'})")
    return [_table_plan(source, target, table) for table in _dependency_order(wanted, repo.pg_foreign_keys(target))]


def _table_plan(source, target, table: str) -> TablePlan:
    columns = repo.pg_columns(target, table)
    names = [name for name, _ in columns]
    if table != VECTOR_TABLE:
        have = set(repo.sqlite_columns(source, table)) | {"rowid"}
        absent = [name for name in names if name not in have]
        extra = sorted(set(repo.sqlite_columns(source, table)) - set(names))
        if absent or extra:
            raise CopyError(f"table {table} differs (only in Postgres: {', '.join(absent) or 'none'}; "
                            f"only in SQLite: {', '.join(extra) or 'none'})")
    bytea = frozenset(i for i, (_, kind) in enumerate(columns) if kind == "bytea")
    return TablePlan(table, names, bytea)


def _dependency_order(tables: list[str], keys: list[tuple[str, str]]) -> list[str]:
    """Referenced tables before the tables that reference them."""
    needs = {t: {parent for child, parent in keys if child == t and parent != t and parent in tables}
             for t in tables}
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if parents <= set(ordered))
        if not ready:
            raise CopyError(f"circular foreign keys among {', '.join(sorted(needs))}")
        ordered.extend(ready)
        for t in ready:
            del needs[t]
    return ordered


def _require_empty(target, tables: list[str]) -> None:
    users, workspaces = repo.pg_count(target, "users"), repo.pg_count(target, "workspaces")
    if users or workspaces:
        raise CopyError(f"the target already holds an instance ({users} user(s), {workspaces} workspace(s)); "
                        "copy-db only fills an empty database, so nothing was changed")
    filled = [f"{t} ({n})" for t in tables if (n := repo.pg_count(target, t))]
    if filled:
        raise CopyError(f"the target is not empty: {', '.join(filled)}; copy-db only fills an empty database")


def _copy_table(source, target, plan: TablePlan) -> int:
    import psycopg

    rows = _vector_rows(source) if plan.name == VECTOR_TABLE else _plain_rows(source, plan)
    try:
        return repo.pg_copy_rows(target, plan.name, plan.columns, rows)
    except psycopg.DataError as exc:
        if "NUL" in str(exc):  # SQLite keeps \x00 in text; Postgres text cannot hold it
            raise CopyError(f"copying {plan.name} failed: a text value in it holds a NUL character (\\x00), "
                            "which Postgres cannot store; nothing was copied. Remove the character in SQLite (the "
                            "condition instr(column, char(0)) > 0 finds its rows) and run copy-db again") from exc
        raise CopyError(f"copying {plan.name} failed: {' '.join(str(exc).split())}") from exc
    except psycopg.Error as exc:
        raise CopyError(f"copying {plan.name} failed: {' '.join(str(exc).split())}") from exc


def _plain_rows(source, plan: TablePlan) -> Iterator[tuple]:
    rows = repo.sqlite_rows(source, plan.name, plan.columns)
    if not plan.bytea:
        return rows
    # A BLOB column may hold text in SQLite (its types are affinities); bytea wants bytes.
    return (tuple(v.encode("utf-8") if i in plan.bytea and isinstance(v, str) else v for i, v in enumerate(row))
            for row in rows)


def _vector_rows(source) -> Iterator[tuple]:
    for rowid, chatbot_id, blob in repo.sqlite_vector_rows(source):
        yield rowid, chatbot_id, vector_text(np.frombuffer(blob, dtype=np.float32))


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form; repr of a float32 widened to float64 reads back to the same float32."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _verify_counts(source, target, counts: list[tuple[str, int]]) -> None:
    for table, copied in counts:
        expected, landed = repo.sqlite_count(source, table), repo.pg_count(target, table)
        if not expected == copied == landed:
            raise CopyError(f"row counts of {table} differ (SQLite {expected}, copied {copied}, Postgres {landed}); "
                            "nothing was committed")


def _verify_vectors(source, target) -> int:
    rowids = repo.sqlite_sample_rowids(source, VECTOR_SAMPLE)
    for rowid in rowids:
        before, after = repo.sqlite_vector(source, rowid), repo.pg_vector(target, rowid)
        if after is None or before is None or not np.array_equal(before, after):
            raise CopyError(f"vector {rowid} differs after the copy; nothing was committed")
    return len(rowids)
