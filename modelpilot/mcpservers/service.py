"""MCP servers of a workspace (editors manage them), their tools listed live, and the two
functions the chat's tool loop asks: `tools_for` and `call_tool`.

A server's header values (its API key, a bearer token) are sealed as one JSON object with the
key ring of provider keys, under associated data naming the workspace and the server, so a
sealed value copied to another row does not open. They are never returned, logged or put in a
prompt; only their names are shown.

Neither `tools_for` nor `call_tool` raises for anything a remote server does: a server that is
down, slow, refuses us or speaks no MCP leaves its tools out of the list (and is logged), and a
call to it comes back as RemoteResult(ok=False) with a sentence saying why. A deleted server's
tools stay picked on the bots that chose them; the chat reports them as unavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import replace

import anyio

from modelpilot.core import audit, metrics
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.crypto import CryptoError
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.db import Database, run_on
from modelpilot.core.errors import ApiError, FieldErrors, invalid, invalid_fields, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.mcpservers import remote, repo, tool_cache
from modelpilot.mcpservers.entities import ListedTool, McpServer, RemoteResult, RemoteTool
from modelpilot.mcpservers.remote import McpUnavailable
from modelpilot.providers.keys import key_ring
from modelpilot.core.safe_http import clean_outbound_url
from modelpilot.settings import Settings

__all__ = ["RemoteTool", "RemoteResult", "tools_for", "call_tool"]

log = logging.getLogger("modelpilot.mcpservers")
MANAGE_ROLE = "editor"   # like HTTP actions: the people who build bots connect their tools
READ_ROLE = "viewer"
MAX_URL = 2000
MAX_HEADERS = 20
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
# Set by the HTTP client or the MCP transport itself; a stored value would clash with theirs.
RESERVED_HEADERS = frozenset({
    "host", "content-length", "content-type", "accept", "accept-encoding", "connection", "keep-alive",
    "transfer-encoding", "te", "trailer", "upgrade", "user-agent", "mcp-session-id", "mcp-protocol-version",
    "mcp-method", "mcp-name", "last-event-id"})
UNAVAILABLE_GONE = "This tool is unavailable: its MCP server was removed from the workspace."


# ---- input -----------------------------------------------------------------------------------

def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise invalid("name", "must not be empty")
    return name


def clean_url(settings: Settings, url: str) -> str:
    return clean_outbound_url(url, allow_private=settings.outbound_allow_private, max_chars=MAX_URL)


def clean_headers(headers: dict[str, str | None], old: dict[str, str]) -> dict[str, str]:
    """The header set to store: each name a valid, unreserved HTTP header name, once; each value
    one line of text; a null value keeps the stored value of that name (PATCH)."""
    errors, seen, out = FieldErrors(), set(), {}
    if len(headers) > MAX_HEADERS:
        errors.add("headers", f"may hold at most {MAX_HEADERS} headers")
    old_by_lower = {name.lower(): value for name, value in old.items()}
    for name, value in headers.items():
        field, lower = f"headers.{name}", name.lower()
        if not HEADER_NAME.match(name):
            errors.add(field, "is not a valid header name (letters, digits and - only, at most 100)")
        elif lower in RESERVED_HEADERS:
            errors.add(field, "is set by ModelPilot itself and cannot be configured")
        elif lower in seen:
            errors.add(field, "is given twice (header names ignore case)")
        elif value is None and lower not in old_by_lower:
            errors.add(field, "has no stored value to keep; give its value")
        elif value is not None and (not value.strip() or any(ord(c) < 32 and c != "\t" or ord(c) == 127
                                                             for c in value)):
            errors.add(field, "must be one line of text, not empty")
        else:
            out[name] = old_by_lower[lower] if value is None else value.strip()
        seen.add(lower)
    if errors.problems:
        raise invalid_fields(errors.problems)
    return out


# ---- sealing ---------------------------------------------------------------------------------

def _aad(workspace_id: str, server_id: str) -> str:
    return f"mcp/{workspace_id}/{server_id}"


def _seal_headers(settings: Settings, workspace_id: str, server_id: str, headers: dict[str, str]) -> str | None:
    if not headers:
        return None
    return key_ring(settings).seal(json.dumps(headers), aad=_aad(workspace_id, server_id))


def open_headers(settings: Settings, server: McpServer) -> dict[str, str]:
    if not server.headers_sealed:
        return {}
    aad = _aad(server.workspace_id, server.id)
    try:
        return json.loads(key_ring(settings).open(server.headers_sealed, aad=aad))
    except CryptoError:  # a key rotated by another process: read the ring again once
        return json.loads(key_ring(settings, reload=True).open(server.headers_sealed, aad=aad))


def secrets_of(headers: dict[str, str]) -> list[str]:
    """The header values, and the credential inside a scheme ("Bearer <token>"), longest first."""
    found = set()
    for value in headers.values():
        if len(value) >= 4:
            found.add(value)
        scheme, _, credential = value.partition(" ")
        if credential.strip() and len(credential.strip()) >= 8 and scheme.isalpha():
            found.add(credential.strip())
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """A server that echoes our key back (in a result, an error, a tool's description) must not
    put it in a prompt, the conversation log or the dashboard."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def _stored_headers(settings: Settings, server: McpServer) -> dict[str, str]:
    """For a PATCH that keeps values: none kept when they no longer open (the secret key changed
    without a rotation), so each must be given again instead of the PATCH failing."""
    try:
        return open_headers(settings, server)
    except CryptoError:
        return {}


def reseal_headers_sync(conn, ring) -> int:
    """`modelpilot rotate-key`: every server's headers sealed again with the new ring's first key,
    in the rotation's transaction (instance-wide, like the provider keys it goes with)."""
    rows = repo.all_sealed_headers_sync(conn)
    for row in rows:
        aad = _aad(row["workspace_id"], row["id"])
        resealed = ring.seal(ring.open(row["headers_sealed"], aad=aad), aad=aad)
        repo.update_server_sync(conn, row["workspace_id"], row["id"], {"headers_sealed": resealed})
    return len(rows)


# ---- servers ---------------------------------------------------------------------------------

async def _get(db: Database, workspace_id: str, server_id: str) -> McpServer:
    async with db.read() as conn:
        server = await repo.get_server(conn, workspace_id, server_id)
    if server is None:
        raise not_found("MCP server")
    return server


async def get_server(db: Database, access: WorkspaceAccess, server_id: str) -> dict:
    access.require(READ_ROLE)
    return (await _get(db, access.workspace_id, server_id)).public()


async def list_servers(db: Database, access: WorkspaceAccess, cursor: str | None, limit: int) -> dict:
    access.require(READ_ROLE)
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        servers = await repo.server_page(conn, access.workspace_id, after, limit + 1)
    more, servers = len(servers) > limit, servers[:limit]
    next_cursor = encode_cursor(servers[-1].created_at, servers[-1].id) if more and servers else None
    return {"items": [server.public() for server in servers], "next_cursor": next_cursor}


def _name_free(conn, workspace_id: str, name: str, server_id: str = "") -> None:
    if repo.name_taken_sync(conn, workspace_id, name, server_id):
        raise invalid("name", f"is already the name of another MCP server in this workspace ({name})")


async def create_server(db: Database, settings: Settings, access: WorkspaceAccess, name: str, url: str,
                        headers: dict[str, str | None]) -> dict:
    access.require(MANAGE_ROLE)
    errors = FieldErrors()
    name = errors.check("name", clean_name, name)
    url = errors.check("url", clean_url, settings, url)
    headers = errors.check("headers", clean_headers, headers, {})
    if errors.problems:
        raise invalid_fields(errors.problems)
    server_id, now = new_id(), utc_now_iso()
    row = {"id": server_id, "name": name, "url": url, "header_names": list(headers), "created_at": now,
           "headers_sealed": _seal_headers(settings, access.workspace_id, server_id, headers)}
    async with db.write() as conn:
        await run_on(conn, lambda sync: (_name_free(sync, access.workspace_id, name),
                                         repo.insert_server_sync(sync, access.workspace_id, row)))
        await audit.record(conn, access.workspace_id, "mcp_server.created", **access.audit_actor,
                           target_type="mcp_server", target_id=server_id,
                           details={"name": name, "url": url, "header_names": list(headers)})
    return (await _get(db, access.workspace_id, server_id)).public()


async def update_server(db: Database, settings: Settings, access: WorkspaceAccess, server_id: str,
                        changes: dict) -> dict:
    access.require(MANAGE_ROLE)
    current = await _get(db, access.workspace_id, server_id)
    errors, columns = FieldErrors(), {}
    if "name" in changes:
        columns["name"] = errors.check("name", clean_name, changes["name"])
    if "url" in changes:
        columns["url"] = errors.check("url", clean_url, settings, changes["url"])
    if "headers" in changes:
        headers = errors.check("headers", clean_headers, changes["headers"], _stored_headers(settings, current))
        if headers is not None:
            columns["header_names"] = list(headers)
            columns["headers_sealed"] = _seal_headers(settings, access.workspace_id, server_id, headers)
    if errors.problems:
        raise invalid_fields(errors.problems)
    columns["updated_at"] = utc_now_iso()

    def write(sync) -> int:
        if "name" in columns:
            _name_free(sync, access.workspace_id, columns["name"], server_id)
        return repo.update_server_sync(sync, access.workspace_id, server_id, columns)

    async with db.write() as conn:
        if not await run_on(conn, write):
            raise not_found("MCP server")
        await audit.record(conn, access.workspace_id, "mcp_server.updated", **access.audit_actor,
                           target_type="mcp_server", target_id=server_id,
                           details={key: columns[key] for key in ("name", "url", "header_names") if key in columns})
    tool_cache.forget(server_id)
    return (await _get(db, access.workspace_id, server_id)).public()


async def delete_server(db: Database, access: WorkspaceAccess, server_id: str) -> None:
    access.require(MANAGE_ROLE)
    async with db.write() as conn:
        if not await run_on(conn, lambda sync: repo.delete_server_sync(sync, access.workspace_id, server_id)):
            raise not_found("MCP server")
        await audit.record(conn, access.workspace_id, "mcp_server.deleted", **access.audit_actor,
                           target_type="mcp_server", target_id=server_id)
    tool_cache.forget(server_id)


async def existing_server_ids(db: Database, workspace_id: str, server_ids: list[str]) -> set[str]:
    """Which of these ids are servers of the workspace (for validating a bot's `tools`)."""
    async with db.read() as conn:
        return {server.id for server in await repo.servers_by_ids(conn, workspace_id, list(set(server_ids)))}


# ---- tools -----------------------------------------------------------------------------------

async def _fetch_tools(settings: Settings, server: McpServer) -> list[ListedTool]:
    """Ask the server now (raises McpUnavailable); the answer, either way, goes into the cache."""
    secrets: list[str] = []
    started = time.monotonic()
    try:
        headers = open_headers(settings, server)
        secrets = secrets_of(headers)
        tools = await remote.list_tools(settings, server.url, headers, settings.mcp_list_timeout_seconds)
        metrics.record_mcp("list", "ok", time.monotonic() - started)
    except CryptoError as exc:
        error = f"The server's stored headers cannot be opened with this instance's secret key ({exc})."
        tool_cache.put_failure(server, error, settings.mcp_tools_cache_seconds)
        raise McpUnavailable(error) from None
    except McpUnavailable as exc:
        metrics.record_mcp("list", "unavailable", time.monotonic() - started)
        error = scrub(exc.message, secrets)
        tool_cache.put_failure(server, error, settings.mcp_tools_cache_seconds)
        raise McpUnavailable(error) from None
    tools = [replace(tool, description=scrub(tool.description, secrets)) for tool in tools] if secrets else tools
    tool_cache.put_tools(server, tools, settings.mcp_tools_cache_seconds)
    return tools


async def list_tools_live(db: Database, settings: Settings, access: WorkspaceAccess, server_id: str) -> dict:
    """GET .../tools: always asked of the server itself (the dashboard's picker and its check
    that a server works), 502 mcp_unavailable when it cannot answer."""
    access.require(READ_ROLE)
    server = await _get(db, access.workspace_id, server_id)
    try:
        tools = await _fetch_tools(settings, server)
    except McpUnavailable as exc:
        raise ApiError(502, "mcp_unavailable", exc.message) from None
    return {"items": [tool.public() for tool in tools]}


# Listings under way, per event loop and server version: chats that find the cache empty at the
# same moment wait for one request to the server instead of sending one each.
_listing: dict[tuple[int, str, str], asyncio.Future] = {}


async def _tools_of(settings: Settings, server: McpServer) -> tuple[ListedTool, ...] | None:
    """The cached list, else a fresh one; None when the server failed (logged, never raised)."""
    cached = tool_cache.get(server)
    if cached is not None:
        return cached.tools
    key = (id(asyncio.get_running_loop()), server.id, server.updated_at)
    listing = _listing.get(key)
    if listing is None:
        listing = _listing[key] = asyncio.ensure_future(_fetch_for_chat(settings, server))
        listing.add_done_callback(lambda _: _listing.pop(key, None))
    stale = tool_cache.get_stale(server)
    if stale is not None:  # the listing goes on without us and refreshes the cache
        return stale.tools
    # Shielded: one chat going away must not cancel the listing the others wait for.
    return await asyncio.shield(listing)


async def _fetch_for_chat(settings: Settings, server: McpServer) -> tuple[ListedTool, ...] | None:
    try:
        return tuple(await _fetch_tools(settings, server))
    except McpUnavailable as exc:
        log.warning("MCP server %s (%s) left out of the tools: %s", server.id, server.name, exc.message)
    except Exception:  # a surprise in one server's listing must not cost the chat its other tools
        log.exception("MCP server %s left out of the tools", server.id)
    return None


async def tools_for(db: Database, settings: Settings, workspace_id: str,
                    picks: list[tuple[str, str]]) -> list[RemoteTool]:
    """The picked (server_id, tool) pairs that are available now, in the order picked. Tools of
    servers that fail, time out or were deleted, and tools a server no longer lists, are left
    out (and logged); nothing a server does raises here. Servers are asked at once, not in turn."""
    if not picks:
        return []
    async with db.read() as conn:
        servers = await repo.servers_by_ids(conn, workspace_id, list(dict.fromkeys(sid for sid, _ in picks)))
    listings: dict[str, dict[str, ListedTool]] = {}

    async def fill(server: McpServer) -> None:
        tools = await _tools_of(settings, server)
        if tools is not None:
            listings[server.id] = {tool.name: tool for tool in tools}

    async with anyio.create_task_group() as group:
        for server in servers:
            group.start_soon(fill, server)
    return _picked(picks, listings)


def _picked(picks: list[tuple[str, str]], listings: dict[str, dict[str, ListedTool]]) -> list[RemoteTool]:
    chosen = []
    for server_id, name in dict.fromkeys(picks):
        tool = listings.get(server_id, {}).get(name)
        if tool is None:
            if server_id in listings:
                log.info("MCP server %s no longer lists the tool %r", server_id, name)
            continue
        chosen.append(RemoteTool(server_id=server_id, name=tool.name, description=tool.description,
                                 input_schema=tool.input_schema))
    return chosen


async def call_tool(db: Database, settings: Settings, workspace_id: str, server_id: str, tool: str,
                    arguments: dict, *, timeout_s: float, max_bytes: int) -> RemoteResult:
    """Call one tool; never raises for what the server does. `text` is capped at max_bytes."""
    started = time.monotonic()

    def result(ok: bool, text: str, error: str | None, outcome: str = "unavailable") -> RemoteResult:
        metrics.record_mcp("call", outcome, time.monotonic() - started)
        return RemoteResult(ok, text, error, round((time.monotonic() - started) * 1000))

    async with db.read() as conn:
        server = await repo.get_server(conn, workspace_id, server_id)
    if server is None:
        return result(False, "", UNAVAILABLE_GONE)
    try:
        headers = open_headers(settings, server)
    except CryptoError:
        return result(False, "", "This tool is unavailable: its MCP server's headers cannot be opened.")
    secrets = secrets_of(headers)
    try:
        ok, text = await remote.call_tool(settings, server.url, headers, tool, arguments, timeout_s)
    except McpUnavailable as exc:
        error = scrub(exc.message, secrets)
        log.warning("MCP call %s on server %s (%s) failed: %s", tool, server.id, server.name, error)
        return result(False, "", f"This tool is unavailable: {error}")
    text = remote.cap_text(scrub(text, secrets), max_bytes)
    if ok:
        return result(True, text, None, "ok")
    return result(False, text, text[:remote.ERROR_CHARS] or "The tool reported an error without saying why.",
                  "tool_error")
