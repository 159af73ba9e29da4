"""/mcp: the workspace's chatbots as MCP tools (Streamable HTTP), for AI assistants and agents.

The official `mcp` SDK's server does the protocol (both eras: the initialize handshake and the
2026 per-request form), stateless and in JSON-response mode: every POST is one exchange and
nothing outlives it, so any node of a fleet answers any call. Before the SDK sees a byte, the
caller's API token is checked here (401 otherwise); the tools then act as that token, through
the same services as the JSON API: `list_chatbots`, `ask` (a chat turn on channel `api`; a
`session_id` continues a conversation) and `search` (retrieval as the bot does it).
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from litestar import Request
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from modelpilot import __version__
from modelpilot.chat import service as chat
from modelpilot.chatbots import service as chatbots
from modelpilot.chatbots.entities import Bot
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, error_body, invalid
from modelpilot.core.ids import new_id
from modelpilot.knowledge import service as knowledge
from modelpilot.openif.access import MessageLimit, token_access
from modelpilot.rag.retrieve import MAX_TOP_K
from modelpilot.settings import Settings

CALLER = "modelpilot.mcp_caller"  # the scope key the endpoint leaves the checked caller under
READ_ONLY = types.ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                  open_world_hint=False)
# ask writes a conversation and spends a message of the quota: not read-only, nothing destroyed.
ASKS = types.ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                             open_world_hint=False)
CHATBOT = {"type": "string", "description": "The chatbot's slug or id (list_chatbots shows them)."}
TOOLS = [
    types.Tool(name="list_chatbots", title="List chatbots", annotations=READ_ONLY,
               description="The chatbots of this workspace: slug, id, name and greeting.",
               input_schema={"type": "object", "properties": {}}),
    types.Tool(name="ask", title="Ask a chatbot", annotations=ASKS,
               description="Ask a chatbot a question; it answers from its knowledge, with the sources it used. "
                           "Pass the returned session_id again to continue the same conversation.",
               input_schema={"type": "object", "required": ["chatbot", "question"], "properties": {
                   "chatbot": CHATBOT, "question": {"type": "string", "description": "The question."},
                   "session_id": {"type": "string", "description": "Continue this conversation (optional)."}}}),
    types.Tool(name="search", title="Search a chatbot's knowledge", annotations=READ_ONLY,
               description="Search a chatbot's knowledge as it would for a question: chunks with scores.",
               input_schema={"type": "object", "required": ["chatbot", "query"], "properties": {
                   "chatbot": CHATBOT, "query": {"type": "string", "description": "What to look for."},
                   "k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K,
                         "description": "How many chunks (default: the bot's top k)."}}}),
]


@dataclass(frozen=True)
class Caller:
    db: Database
    settings: Settings
    access: WorkspaceAccess
    limit: MessageLimit


def _text(arguments: dict, name: str, required: bool = True) -> str | None:
    value = arguments.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(name, "must be a non-empty string")
    return value.strip()


async def _bot(caller: Caller, name: str) -> Bot:
    bot = await chatbots.find_bot(caller.db, caller.access.workspace_id, name)
    if bot is None:
        raise ApiError(404, "not_found", f"No chatbot {name[:100]!r} in this workspace; list_chatbots shows them.")
    return bot


async def list_chatbots(caller: Caller, arguments: dict) -> dict:
    bots = await chatbots.bots_of(caller.db, caller.access.workspace_id)
    return {"chatbots": [{"slug": b.slug, "id": b.id, "name": b.name, "greeting": b.greeting} for b in bots]}


async def ask(caller: Caller, arguments: dict) -> dict:
    name, question = _text(arguments, "chatbot"), _text(arguments, "question")
    session_id = _text(arguments, "session_id", required=False) or new_id()
    chat.require_chat_role(caller.access)
    bot = await _bot(caller, name)
    await caller.limit.take(caller.access)
    parts, last = [], {}
    async for event in chat.stream_reply(caller.db, caller.settings, workspace_id=caller.access.workspace_id,
                                         bot=bot, session_id=session_id, message=question, channel="api"):
        if "text" in event:
            parts.append(event["text"])
        else:
            last = event
    if "error" in last:
        raise ApiError(502, last["error"].get("code") or "upstream_error", last["error"].get("message", ""))
    answer = "".join(parts) or last.get("text") or last.get("message") or ""
    return {"answer": answer, "sources": last.get("sources", []), "session_id": last.get("session_id", session_id),
            "conversation_id": last.get("conversation_id"), "status": last.get("status", "bot")}


async def search(caller: Caller, arguments: dict) -> dict:
    name, query = _text(arguments, "chatbot"), _text(arguments, "query")
    k = arguments.get("k")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool)):
        raise invalid("k", f"must be a whole number from 1 to {MAX_TOP_K}")
    bot = await _bot(caller, name)
    found = await knowledge.search(caller.db, caller.access, bot.id, query, k)
    keep = ("chunk_id", "document_id", "title", "url", "page", "heading", "text", "score")
    return {"query": found["query"], "results": [{key: r[key] for key in keep} for r in found["results"]]}


HANDLERS = {"list_chatbots": list_chatbots, "ask": ask, "search": search}


def _readable(name: str, data: dict) -> str:
    """The text block beside the structured result, for clients that show only text."""
    if name == "ask":
        sources = "".join(f"\n- {s['title']}" + (f" ({s['url']})" if s.get("url") else "") for s in data["sources"])
        return data["answer"] + (f"\n\nSources:{sources}" if sources else "")
    return json.dumps(data, ensure_ascii=False)


async def _list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    handler = HANDLERS.get(params.name)
    if handler is None:
        return types.CallToolResult(content=[types.TextContent(text=f"Unknown tool {params.name!r}.")], is_error=True)
    caller: Caller = ctx.request.scope[CALLER]
    try:
        data = await handler(caller, dict(params.arguments or {}))
    except ApiError as exc:  # a refusal the model can read and act on (tool errors are results in MCP)
        return types.CallToolResult(content=[types.TextContent(text=exc.message)], is_error=True)
    return types.CallToolResult(content=[types.TextContent(text=_readable(params.name, data))],
                                structured_content=data)


class McpEndpoint:
    """The SDK's session manager, started with the app and stopped with it."""

    def __init__(self) -> None:
        server = Server("modelpilot", version=__version__, title="ModelPilot chatbots",
                        instructions="Ask this workspace's chatbots questions (ask) or search their knowledge "
                                     "(search); list_chatbots names them.",
                        on_list_tools=_list_tools, on_call_tool=_call_tool)
        self.manager = StreamableHTTPSessionManager(server, json_response=True, stateless=True)
        self._stack = AsyncExitStack()

    async def start(self) -> None:
        await self._stack.enter_async_context(self.manager.run())

    async def stop(self) -> None:
        await self._stack.aclose()


async def _refuse(send: Send, exc: ApiError) -> None:
    body = json.dumps(error_body(exc.code, exc.message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if exc.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="modelpilot"'))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@asgi("/mcp", is_mount=True, copy_scope=True, tags=["open interfaces"])
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    request: Request = Request(scope, receive)
    try:
        access = await token_access(request)
    except ApiError as exc:
        await _refuse(send, exc)
        return
    app_state = request.app.state
    scope[CALLER] = Caller(app_state["db"], app_state["settings"], access,  # type: ignore[literal-required]
                           MessageLimit(app_state["settings"], app_state["throttle"]))
    await app_state["mcp"].manager.handle_request(scope, receive, send)
