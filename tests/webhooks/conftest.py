"""Fixtures for webhook tests: a receiver, and servers that may reach it and retry quickly."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.webhooks.receiver import Receiver

# Retries in fractions of a second instead of minutes; the schedule's shape is the real one.
FAST_RETRIES = (0.3, 0.3, 0.3)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def hook_server(server_factory):
    """A server allowed to reach 127.0.0.1 (the receiver), with a fast retry schedule."""
    def start(**overrides):
        return server_factory(**{"outbound_allow_private": True, "webhook_retry_seconds": FAST_RETRIES,
                                 **overrides})
    return start
