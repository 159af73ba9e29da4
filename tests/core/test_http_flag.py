"""The server's per-connection flag (core/http_server.Flag) behaves as asyncio.Event does for
everything uvicorn uses: set wakes every waiter, wait after set returns at once, clear makes
the next wait block, and a cancelled waiter leaves the flag usable."""

from __future__ import annotations

import asyncio

import pytest

from modelpilot.core.http_server import Flag, Pipeline


@pytest.mark.parametrize("make", [asyncio.Event, Flag], ids=["asyncio.Event", "Flag"])
def test_flag_behaves_as_an_asyncio_event(make) -> None:
    async def scenario() -> list:
        seen = []
        flag = make()
        assert not flag.is_set()
        waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        flag.set()
        seen.append(await asyncio.gather(*waiters))  # every waiter woken by one set
        assert flag.is_set()
        seen.append(await asyncio.wait_for(flag.wait(), 1))  # set: returns at once
        flag.clear()
        late = asyncio.create_task(flag.wait())
        await asyncio.sleep(0.01)
        seen.append(late.done())  # cleared: the next wait blocks
        late.cancel()
        await asyncio.gather(late, return_exceptions=True)
        again = asyncio.create_task(flag.wait())  # a cancelled waiter leaves it usable
        await asyncio.sleep(0)
        flag.set()
        seen.append(await asyncio.wait_for(again, 1))
        flag.set()  # set twice: still set, nothing raised
        seen.append(flag.is_set())
        return seen

    assert asyncio.run(scenario()) == [[True, True, True], True, False, True, True]


def test_a_flag_set_before_a_waiter_is_woken_does_not_lose_the_wakeup() -> None:
    async def scenario() -> bool:
        flag = Flag()
        waiter = asyncio.create_task(flag.wait())
        await asyncio.sleep(0)
        flag.set()
        flag.clear()  # cleared again before the waiter ran: it was still woken
        return await asyncio.wait_for(waiter, 1)

    assert asyncio.run(scenario()) is True


def test_the_pipeline_is_first_in_first_out() -> None:
    pipeline = Pipeline()
    assert not pipeline and len(pipeline) == 0
    for item in ("first", "second", "third"):
        pipeline.appendleft(item)
    assert pipeline and len(pipeline) == 3
    assert [pipeline.pop() for _ in range(3)] == ["first", "second", "third"]
    assert not pipeline
    with pytest.raises(IndexError):
        pipeline.pop()
