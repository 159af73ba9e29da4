"""The SQL of `modelpilot copy-db`: reading a whole SQLite instance, filling an empty Postgres one.

Instance-wide on purpose (it moves every workspace at once), so nothing here takes a
workspace_id. The Postgres side uses psycopg directly: COPY is what makes moving millions of
chunks and messages take seconds, and the repos' `?`-style layer has no COPY.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

# SQLite's vec0 table is virtual: its rows come out of `SELECT rowid, chatbot_id, embedding`.
VECTOR_TABLE = "chunk_vectors"
BATCH_ROWS = 2000


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected table or column name {name!r}")
    return '"' + name + '"'


# --- SQLite (the source) ---------------------------------------------------------------

def sqlite_begin_read(conn) -> None:
    """One read transaction for the whole copy: one consistent state of the source."""
    conn.execute("BEGIN")


def sqlite_schema_version(conn) -> int:
    row = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if row is None:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def sqlite_tables(conn) -> dict[str, str]:
    """{name: 'table' | 'virtual'} of the main schema, without SQLite's own and shadow tables."""
    rows = conn.execute("PRAGMA main.table_list").fetchall()
    virtual = [row["name"] + "_" for row in rows if row["type"] == "virtual"]
    # Not every module declares its shadow tables (vec0's vector chunks pass for plain tables).
    return {row["name"]: row["type"] for row in rows
            if row["type"] in ("table", "virtual") and not row["name"].startswith(("sqlite_", *virtual))}


def sqlite_columns(conn, table: str) -> list[str]:
    return [row["name"] for row in conn.execute(f"PRAGMA main.table_info({_ident(table)})").fetchall()]


def sqlite_count(conn, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()[0])


def sqlite_rows(conn, table: str, columns: Sequence[str]) -> Iterator[tuple]:
    """Every row in rowid order: messages keep their order, chunks and vectors their shared ids."""
    names = ", ".join("rowid" if c == "rowid" else _ident(c) for c in columns)
    cursor = conn.execute(f"SELECT {names} FROM {_ident(table)} ORDER BY rowid")
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield from (tuple(row) for row in batch)


def sqlite_vector_rows(conn) -> Iterator[tuple[int, str, bytes]]:
    cursor = conn.execute(f"SELECT rowid, chatbot_id, embedding FROM {VECTOR_TABLE} ORDER BY rowid")
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield from ((row[0], row[1], row[2]) for row in batch)


def sqlite_vector(conn, rowid: int) -> np.ndarray | None:
    row = conn.execute(f"SELECT embedding FROM {VECTOR_TABLE} WHERE rowid = ?", (rowid,)).fetchone()
    return None if row is None else np.frombuffer(row[0], dtype=np.float32)


def sqlite_sample_rowids(conn, count: int) -> list[int]:
    """A few vector rowids spread over the table: the first, the last, and some between."""
    rows = [r[0] for r in conn.execute(f"SELECT rowid FROM {VECTOR_TABLE} ORDER BY rowid").fetchall()]
    if len(rows) <= count:
        return rows
    step = (len(rows) - 1) / (count - 1)
    return sorted({rows[round(i * step)] for i in range(count)})


# --- Postgres (the target) -------------------------------------------------------------

def pg_schema_version(conn) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def pg_lock_writes(conn, key: int) -> None:
    """The fleet's write lock for the whole copy: a node started meanwhile waits for the end."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


def pg_tables(conn) -> list[str]:
    rows = conn.execute("SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                        " ORDER BY table_name").fetchall()
    return [row[0] for row in rows]


def pg_columns(conn, table: str) -> list[tuple[str, str]]:
    """(name, type) of the columns one may write: generated columns (tsvectors) are left out."""
    rows = conn.execute("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
                        " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped"
                        " AND a.attgenerated = '' ORDER BY a.attnum", (table,)).fetchall()
    return [(row[0], row[1]) for row in rows]


def pg_foreign_keys(conn) -> list[tuple[str, str]]:
    """(table, the table it references) for every foreign key of the schema."""
    rows = conn.execute("SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
                        " WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace").fetchall()
    return [(row[0].strip('"'), row[1].strip('"')) for row in rows]


def pg_count(conn, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()[0])


def pg_copy_rows(conn, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> int:
    names = ", ".join(_ident(c) for c in columns)
    count = 0
    with conn.cursor() as cursor:
        with cursor.copy(f"COPY {_ident(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def pg_vector(conn, rowid: int) -> np.ndarray | None:
    row = conn.execute(f"SELECT embedding::real[] FROM {VECTOR_TABLE} WHERE rowid = %s", (rowid,)).fetchone()
    return None if row is None else np.asarray(row[0], dtype=np.float32)


def pg_reset_sequences(conn) -> list[str]:
    """Identity and serial columns continue after the copied ids (messages.rowid)."""
    rows = conn.execute("SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)"
                        " FROM information_schema.columns WHERE table_schema = current_schema()").fetchall()
    done = []
    for table, column, sequence in rows:
        if sequence is None:
            continue
        conn.execute(f"SELECT setval(%s, COALESCE((SELECT MAX({_ident(column)}) FROM {_ident(table)}), 0) + 1, false)",
                     (sequence,))
        done.append(f"{table}.{column}")
    return done
