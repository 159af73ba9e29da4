"""Talking to one remote MCP server with the official `mcp` SDK (Streamable HTTP).

Every request of a session goes through core/safe_http's guarded transport: the address check
at connect time (private, loopback and link-local addresses only with
MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true), no proxies from the environment, the client told not
to follow redirects (the SDK follows only same-origin ones itself, same scheme, host and port,
each again through the guard), and every response body cut off past WIRE_LIMIT_BYTES, since
the SDK reads a JSON answer whole before we see it. Each operation is one short session (connect, one request, close) inside one deadline:
a slow or broken server costs at most that deadline, and nothing of it outlives the call.

The SDK is imported on first use: it takes about half a second, and start-up must not wait.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import anyio

from modelpilot import __version__
from modelpilot.core.safe_http import AddressPolicy, FetchError, guarded_transport_httpx2
from modelpilot.mcpservers.entities import ListedTool
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.mcpservers")

USER_AGENT = f"ModelPilot-MCP/{__version__}"
REFUSAL_HINT = ("An administrator can allow private addresses for webhooks, actions and MCP servers with "
                "MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true.")
WIRE_LIMIT_BYTES = 4_000_000   # one HTTP response from the server, before any text is cut to max_bytes
MAX_LIST_PAGES = 20            # a server whose tool list never ends still answers in bounded time
MAX_TOOLS = 500
MAX_DESCRIPTION_CHARS = 1024   # what model providers accept for a function's description
MAX_SCHEMA_BYTES = 32_768      # a tool whose input schema is larger is left out: it would flood the prompt
ERROR_CHARS = 500              # the longest error sentence kept from a server


class McpUnavailable(Exception):
    """The server could not be reached, refused us, timed out or spoke no MCP; `message` says
    which in words an admin can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@asynccontextmanager
async def _connected(settings: Settings, url: str, headers: dict[str, str], timeout: float,
                     failed_statuses: list[int]) -> AsyncIterator[Any]:
    """A connected SDK client; HTTP error statuses it met are appended to `failed_statuses`
    (the SDK turns them into a generic "error response", and the status is what tells an admin
    that a key is wrong or the path is)."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp_types import Implementation

    policy = AddressPolicy(settings.outbound_allow_private, refusal_hint=REFUSAL_HINT)
    transport = guarded_transport_httpx2(policy, max_response_bytes=WIRE_LIMIT_BYTES)
    http = httpx2.AsyncClient(transport=transport, headers={**headers, "User-Agent": USER_AGENT},
                              timeout=httpx2.Timeout(timeout, connect=min(5.0, timeout)),
                              follow_redirects=False, trust_env=False,
                              event_hooks={"response": [_status_recorder(failed_statuses)]})
    async with http:
        client = Client(streamable_http_client(url, http_client=http), cache=None, read_timeout_seconds=timeout,
                        client_info=Implementation(name="ModelPilot", version=__version__))
        async with client:
            yield client


def _status_recorder(failed_statuses: list[int]):
    async def record(response: Any) -> None:
        if response.status_code >= 400:
            failed_statuses.append(response.status_code)
    return record


async def list_tools(settings: Settings, url: str, headers: dict[str, str], timeout: float) -> list[ListedTool]:
    """The server's tools, every page of them; raises McpUnavailable."""
    statuses: list[int] = []
    try:
        with anyio.fail_after(timeout):
            async with _connected(settings, url, headers, timeout, statuses) as client:
                return await _all_tools(client)
    except TimeoutError:
        raise McpUnavailable(f"The MCP server did not answer within {timeout:g} s.") from None
    except Exception as exc:  # the SDK raises what its transport met, often inside an ExceptionGroup
        raise McpUnavailable(describe_failure(exc, statuses)) from None


async def _all_tools(client: Any) -> list[ListedTool]:
    tools: list[ListedTool] = []
    cursor = None
    for _ in range(MAX_LIST_PAGES):
        page = await client.list_tools(cursor=cursor)
        for tool in page.tools:
            listed = _listed(tool)
            if len(json.dumps(listed.input_schema, default=str)) > MAX_SCHEMA_BYTES:
                log.info("MCP tool %r left out: its input schema is over %d bytes", tool.name, MAX_SCHEMA_BYTES)
                continue
            tools.append(listed)
        cursor = page.next_cursor
        if not cursor or len(tools) >= MAX_TOOLS:
            break
    return tools[:MAX_TOOLS]


def _listed(tool: Any) -> ListedTool:
    annotations = tool.annotations
    description = (tool.description or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[:MAX_DESCRIPTION_CHARS - 1].rstrip() + "…"
    return ListedTool(name=tool.name, description=description,
                      input_schema=dict(tool.input_schema or {"type": "object", "properties": {}}),
                      read_only=None if annotations is None else annotations.read_only_hint)


async def call_tool(settings: Settings, url: str, headers: dict[str, str], tool: str, arguments: dict,
                    timeout: float) -> tuple[bool, str]:
    """(ok, text) of one call: ok is False when the tool reported an error (isError), and the text
    is then the server's. Raises McpUnavailable when no answer came (the caller caps the text)."""
    statuses: list[int] = []
    try:
        with anyio.fail_after(timeout):
            async with _connected(settings, url, headers, timeout, statuses) as client:
                result = await client.call_tool(tool, arguments)
    except TimeoutError:
        raise McpUnavailable(f"The MCP server did not answer within {timeout:g} s.") from None
    except Exception as exc:
        raise McpUnavailable(describe_failure(exc, statuses)) from None
    return not result.is_error, result_text(result)


def result_text(result: Any) -> str:
    """The result as text for the model: text parts as they are, other parts summarised (an
    image or a file is not pasted into a prompt), or the structured result as JSON when no part
    carries text."""
    parts = [_content_text(block) for block in result.content or []]
    if not any(block.type == "text" for block in result.content or []) and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, default=str))
    return "\n".join(part for part in parts if part)


def _content_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind in ("image", "audio"):
        size = len(block.data or "") * 3 // 4
        return f"[{kind} content: {block.mime_type}, about {size} bytes; not shown]"
    if kind == "resource_link":
        return f"[resource link: {block.uri}]"
    if kind == "resource":
        resource = block.resource
        if getattr(resource, "text", None) is not None:
            return resource.text
        return f"[resource {resource.uri}: {resource.mime_type or 'binary data'}; not shown]"
    return f"[{kind or 'unknown'} content; not shown]"


def cap_text(text: str, max_bytes: int) -> str:
    """At most max_bytes of UTF-8, cut at a character boundary, with a note of what was left out."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    note = f"\n[cut: {len(raw)} bytes in all, the first {max_bytes} shown]"
    keep = max(0, max_bytes - len(note.encode()))
    return raw[:keep].decode("utf-8", errors="ignore") + note


# ---- why a session failed ----------------------------------------------------------------------

def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


HTTP_HINTS = {401: "login required; check the key or token in the server's headers",
              403: "access forbidden; check the key or token in the server's headers",
              404: "no MCP endpoint at this path; check the URL",
              405: "this URL does not take MCP requests; check the path",
              429: "too many requests", 500: "server error", 502: "bad gateway", 503: "service unavailable",
              504: "gateway timeout"}


def describe_failure(exc: BaseException, failed_statuses: list[int] = ()) -> str:
    """One sentence for the most telling of the errors an SDK session ended with: the address
    guard's refusal, else an HTTP status the server answered, else what the SDK said."""
    leaves = _leaves(exc)
    for leaf in leaves:
        for cause in _chain(leaf):
            if isinstance(cause, FetchError):
                return cause.message
    if failed_statuses:
        status = failed_statuses[0]
        hint = f" ({HTTP_HINTS[status]})" if status in HTTP_HINTS else ""
        return f"The MCP server answered HTTP {status}{hint}."
    return _sentence(leaves[0])[:ERROR_CHARS]


def _chain(exc: BaseException) -> list[BaseException]:
    seen, out, current = set(), [], exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _sentence(exc: BaseException) -> str:
    import httpx2
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        return f"The MCP server answered with an error: {exc}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"The MCP server answered HTTP {exc.response.status_code}."
    if isinstance(exc, httpx2.TimeoutException):
        return "The MCP server did not answer in time."
    if isinstance(exc, httpx2.ConnectError):
        return ("Could not connect to the MCP server: nothing answers at its address, or the connection was "
                "refused. Check the URL and that the server is up.")
    if isinstance(exc, httpx2.HTTPError):
        return f"The connection to the MCP server failed: {exc or type(exc).__name__}."
    return f"The MCP server could not be used: {exc or type(exc).__name__}."
