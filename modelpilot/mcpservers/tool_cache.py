"""A short memory of each server's tool list, so a chat turn does not ask the server every time.

Entries are keyed by the server's id and its `updated_at`: a PATCH changes `updated_at`, so
every node stops using the old list at once, without a message between nodes; PATCH and DELETE
also drop this node's entries outright. A failure is remembered too, for a shorter time
(FAILURE_SECONDS). An expired answer still stands in (get_stale) while a fresh one is fetched in
the background, so a chat waits for a server's list only the first time, and a server that
starts to hang costs the chats nothing. Each process holds its own memory (a few KB per
server), bounded to MAX_ENTRIES.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from modelpilot.mcpservers.entities import ListedTool, McpServer

FAILURE_SECONDS = 15.0
STALE_SECONDS = 600.0  # how long past its expiry an answer may still stand in while a fresh one is fetched
MAX_ENTRIES = 2000


@dataclass(frozen=True)
class Listing:
    tools: tuple[ListedTool, ...] | None   # None: the server failed, `error` says how
    error: str | None
    expires: float


_entries: dict[tuple[str, str], Listing] = {}


def _key(server: McpServer) -> tuple[str, str]:
    return (server.id, server.updated_at)


def get(server: McpServer) -> Listing | None:
    listing = _entries.get(_key(server))
    if listing is None or listing.expires <= time.monotonic():
        return None
    return listing


def get_stale(server: McpServer) -> Listing | None:
    """The last answer even if expired (up to STALE_SECONDS ago): what a chat uses while a fresh
    listing is fetched in the background, so only a server's very first listing is waited for."""
    listing = _entries.get(_key(server))
    if listing is None or listing.expires + STALE_SECONDS <= time.monotonic():
        return None
    return listing


def put_tools(server: McpServer, tools: list[ListedTool], seconds: float) -> None:
    if seconds > 0:
        _store(server, Listing(tuple(tools), None, time.monotonic() + seconds))


def put_failure(server: McpServer, error: str, seconds: float) -> None:
    if seconds > 0:
        _store(server, Listing(None, error, time.monotonic() + min(seconds, FAILURE_SECONDS)))


def _store(server: McpServer, listing: Listing) -> None:
    if len(_entries) >= MAX_ENTRIES:
        now = time.monotonic()
        for key in [key for key, old in _entries.items() if old.expires + STALE_SECONDS <= now] \
                or list(_entries)[:MAX_ENTRIES // 4]:
            _entries.pop(key, None)
    _entries[_key(server)] = listing


def forget(server_id: str) -> None:
    for key in [key for key in list(_entries) if key[0] == server_id]:
        _entries.pop(key, None)
