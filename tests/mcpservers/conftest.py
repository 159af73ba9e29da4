"""Fixtures for MCP server tests: a real remote MCP server, and ModelPilot servers allowed to
reach it on 127.0.0.1 (with a short list timeout, so a stalled server fails fast)."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest

from tests.mcpservers.remote_server import RemoteMcp

LIST_TIMEOUT = 4.0  # generous: a handshake-era session is five requests, and CI machines are busy


@pytest.fixture
def remote() -> Iterator[RemoteMcp]:
    running = RemoteMcp()
    yield running
    running.stop()


@pytest.fixture
def mcp_app(server_factory):
    """A ModelPilot server allowed to reach 127.0.0.1, with its admin logged in."""
    from tests.support import Api

    live = server_factory(outbound_allow_private=True, mcp_list_timeout_seconds=LIST_TIMEOUT)
    admin = Api(live.url)
    admin.setup_owner()
    yield live, admin
    admin.close()


def run_with_db(settings, fn):
    """await fn(db) on a second connection to the server's database (as another node would)."""
    from modelpilot.core.database import open_database

    async def main():
        db = open_database(settings)
        await db.open()
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(main())
