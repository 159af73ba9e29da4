"""Fixtures of the contacts tests: one roomy server per module, the webhook receiver."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.contacts.support import roomy_settings
from tests.support import Api, LiveServer, start_server
from tests.webhooks.conftest import hook_server, receiver  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory) -> Iterator[LiveServer]:
    live = start_server(roomy_settings(tmp_path_factory.mktemp("data")))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def roomy_owner(roomy_server: LiveServer) -> Iterator[Api]:
    client = Api(roomy_server.url)
    client.setup_owner()
    yield client
    client.close()
