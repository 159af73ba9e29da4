"""DatabaseThrottle (core/ratelimit.py): sliding windows kept in the database, as a Postgres fleet
counts widget, login and reset limits. Two Database objects on one database stand for two nodes:
each has its own connections, so their hits race for real inside the database."""

from __future__ import annotations

import asyncio

import pytest

from modelpilot.core.database import connect_sync_for, open_database
from modelpilot.core.migrate import migrate_database
from modelpilot.core.ratelimit import DatabaseThrottle, Limit
from tests.support import make_settings


@pytest.fixture
def settings(tmp_path):
    made = make_settings(tmp_path)
    migrate_database(made)
    return made


def on_two_nodes(settings, scenario):
    """`await scenario(throttle_a, throttle_b)` with each throttle on a database of its own."""
    async def run():
        nodes = [open_database(settings, readers=4) for _ in range(2)]
        for db in nodes:
            await db.open()
        try:
            return await scenario(*(DatabaseThrottle(db) for db in nodes))
        finally:
            for db in nodes:
                await db.close()
    return asyncio.run(run())


def stored_hits(settings, key: str) -> int:
    conn = connect_sync_for(settings)
    try:
        return conn.execute("SELECT count(*) FROM rate_hits WHERE key = ?", (key,)).fetchone()[0]
    finally:
        conn.close()


def test_concurrent_hits_from_two_nodes_admit_exactly_the_limit(settings):
    limit = Limit("test.burst", 7, 60)

    async def scenario(a, b):
        waits = await asyncio.gather(*((a if n % 2 else b).take((limit, "visitor")) for n in range(40)))
        return waits

    waits = on_two_nodes(settings, scenario)
    assert waits.count(0) == 7
    assert all(1 <= wait <= 60 for wait in waits if wait)
    assert stored_hits(settings, "test.burst:visitor") == 7


def test_a_take_on_two_keys_counts_both_or_neither_under_concurrency(settings):
    per_ip, per_session = Limit("test.ip", 5, 60), Limit("test.session", 3, 60)

    async def scenario(a, b):
        return await asyncio.gather(*((a if n % 2 else b).take((per_ip, "1.2.3.4"), (per_session, "s1"))
                                      for n in range(20)))

    waits = on_two_nodes(settings, scenario)
    assert waits.count(0) == 3  # the session's limit is the tighter one
    assert stored_hits(settings, "test.ip:1.2.3.4") == 3
    assert stored_hits(settings, "test.session:s1") == 3


def test_a_refused_key_waits_for_its_oldest_hit_and_the_others_are_untouched(settings):
    limit = Limit("test.window", 2, 30)

    async def scenario(a, b):
        first = [await a.take((limit, "k")), await b.take((limit, "k"))]
        refused = await a.take((limit, "k"))
        asked = await b.retry_after(limit, "k")
        other = await b.take((limit, "other"))
        await a.forget_one(limit, "k")
        after_forget = await b.take((limit, "k"))
        await b.reset(limit, "k")
        after_reset = await a.retry_after(limit, "k")
        return first, refused, asked, other, after_forget, after_reset

    first, refused, asked, other, after_forget, after_reset = on_two_nodes(settings, scenario)
    assert first == [0, 0]
    assert 1 <= refused <= 30 and 1 <= asked <= 30
    assert other == 0
    assert after_forget == 0  # the taken-back hit left room for one more
    assert after_reset == 0
    assert stored_hits(settings, "test.window:k") == 0


def test_hits_past_their_window_no_longer_count_and_are_swept(settings):
    limit = Limit("test.short", 1, 0.2)

    async def scenario(a, b):
        assert await a.take((limit, "k")) == 0
        assert await b.take((limit, "k")) >= 1
        await asyncio.sleep(0.3)
        admitted_again = await b.take((limit, "k"))
        await asyncio.sleep(0.3)
        swept = await a.sweep()
        return admitted_again, swept

    admitted_again, swept = on_two_nodes(settings, scenario)
    assert admitted_again == 0
    assert swept == 1  # the expired hit the second take left behind
    assert stored_hits(settings, "test.short:k") == 0
