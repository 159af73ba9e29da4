"""Rate-limit hits in the database (table rate_hits), for a fleet of nodes: see core/ratelimit.

Every function here is one atomic statement on Postgres, run outside the fleet's write lock
(`Database.run_atomic`): the check-and-count is the `rate_take` function of migration 0012,
which locks only its own keys. SQLite (a single node; used when a DatabaseThrottle is given a
SQLite database) runs the same rule as a few statements inside its one writer's transaction.
"""

from __future__ import annotations

import math

from modelpilot.core.db import dialect

_NOW = {"sqlite": "unixepoch('subsec')", "postgres": "EXTRACT(EPOCH FROM clock_timestamp())::float8"}


def _now(conn) -> float:
    return float(conn.execute(f"SELECT {_NOW[dialect(conn)]}").fetchone()[0])


def _wait(conn, key: str, limit: int, seconds: float, now: float) -> int:
    conn.execute("DELETE FROM rate_hits WHERE key = ? AND at <= ?", (key, now - seconds))
    count, oldest = conn.execute("SELECT COUNT(*), MIN(at) FROM rate_hits WHERE key = ?", (key,)).fetchone()
    if count < limit:
        return 0
    return max(1, math.ceil(oldest + seconds - now))


def take_sync(conn, checks: list[tuple[str, int, float]], count: bool = True) -> int:
    """checks: (key, limit, seconds). 0 and one hit counted on each key when all have room (or
    with count=False, only the check); else the seconds to wait, and nothing counted."""
    if dialect(conn) == "postgres":
        keys, limits, seconds = (list(column) for column in zip(*checks)) if checks else ([], [], [])
        return int(conn.execute("SELECT rate_take(?::text[], ?::integer[], ?::float8[], ?)",
                                (keys, limits, [float(s) for s in seconds], count)).fetchone()[0])
    now = _now(conn)
    wait = max((_wait(conn, key, limit, seconds, now) for key, limit, seconds in checks), default=0)
    if wait == 0 and count:
        conn.executemany("INSERT INTO rate_hits (key, at, expires_at) VALUES (?, ?, ?)",
                         [(key, now, now + seconds) for key, _, seconds in checks])
    return wait


def hit_sync(conn, check: tuple[str, int, float]) -> None:
    key, _, seconds = check
    conn.execute(f"INSERT INTO rate_hits (key, at, expires_at) SELECT ?, t, t + ? FROM (SELECT {_NOW[dialect(conn)]} AS t)"
                 " AS clock", (key, float(seconds)))


def forget_newest_sync(conn, key: str) -> None:
    conn.execute("DELETE FROM rate_hits WHERE id = (SELECT id FROM rate_hits WHERE key = ? ORDER BY at DESC, id DESC"
                 " LIMIT 1)", (key,))


def forget_all_sync(conn, key: str) -> None:
    conn.execute("DELETE FROM rate_hits WHERE key = ?", (key,))


def sweep_expired_sync(conn) -> int:
    return conn.execute(f"DELETE FROM rate_hits WHERE expires_at <= {_NOW[dialect(conn)]}").rowcount
