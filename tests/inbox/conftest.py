from __future__ import annotations

import pytest

from tests.inbox.support import close_desk, make_desk

HEARTBEAT = 0.3  # seconds: quick pings, so streams show liveness and readers close promptly


@pytest.fixture
def desk_factory(server_factory, fake_llm):
    desks = []

    def make(bot_fields: dict | None = None, **settings):
        live = server_factory(provider_allow_private=True, events_heartbeat_seconds=HEARTBEAT, **settings)
        desk = make_desk(live, fake_llm, **(bot_fields or {}))
        desk.live = live
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        close_desk(desk)


@pytest.fixture
def desk(desk_factory):
    return desk_factory()
