"""The official mcp SDK's server for /mcp, built on first use (openif/mcp_server.McpEndpoint):
the tools' descriptions and annotations, and the handlers that call mcp_server's tool functions
as the caller the endpoint checked."""

from __future__ import annotations

import json
from typing import Any, Callable

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from modelpilot import __version__
from modelpilot.core.errors import ApiError
from modelpilot.rag.retrieve import MAX_TOP_K

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


def _readable(name: str, data: dict) -> str:
    """The text block beside the structured result, for clients that show only text."""
    if name == "ask":
        sources = "".join(f"\n- {s['title']}" + (f" ({s['url']})" if s.get("url") else "") for s in data["sources"])
        return data["answer"] + (f"\n\nSources:{sources}" if sources else "")
    return json.dumps(data, ensure_ascii=False)


async def _list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=TOOLS)


def _tool_caller(handlers: dict[str, Callable], caller_key: str):
    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        handler = handlers.get(params.name)
        if handler is None:
            return types.CallToolResult(content=[types.TextContent(text=f"Unknown tool {params.name!r}.")],
                                        is_error=True)
        caller = ctx.request.scope[caller_key]  # mcp_server.Caller, left there by the endpoint
        try:
            data = await handler(caller, dict(params.arguments or {}))
        except ApiError as exc:  # a refusal the model can read and act on (tool errors are results in MCP)
            return types.CallToolResult(content=[types.TextContent(text=exc.message)], is_error=True)
        return types.CallToolResult(content=[types.TextContent(text=_readable(params.name, data))],
                                    structured_content=data)

    return call_tool


def session_manager(handlers: dict[str, Callable], caller_key: str) -> StreamableHTTPSessionManager:
    """Stateless, JSON responses: every POST is one exchange and nothing outlives it, so any node
    of a fleet answers any call."""
    server = Server("modelpilot", version=__version__, title="ModelPilot chatbots",
                    instructions="Ask this workspace's chatbots questions (ask) or search their knowledge "
                                 "(search); list_chatbots names them.",
                    on_list_tools=_list_tools, on_call_tool=_tool_caller(handlers, caller_key))
    return StreamableHTTPSessionManager(server, json_response=True, stateless=True)
