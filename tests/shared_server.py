"""One server (and one set-up owner) for a whole test module.

For modules whose tests only read, or each write what no other test of the module looks at:
starting a server and setting up its owner (an argon2 hash) is most of a short test's time. A
module opts in by importing these two fixtures, which then stand in for conftest's per-test
`server` and `owner` (and `api`, `client_factory` follow: they ask for `server`):

    from tests.shared_server import owner, server  # noqa: F401 (module-scoped fixtures)

Under MP_TEST_BACKEND=postgres the module's server has one database of its own, like any server.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support import Api, LiveServer, make_settings, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    live = start_server(make_settings(tmp_path_factory.mktemp("data")))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def owner(server: LiveServer) -> Iterator[Api]:
    client = Api(server.url)
    client.setup_owner()
    yield client
    client.close()
