"""/mcp: the workspace's chatbots as MCP tools (Streamable HTTP), for AI assistants and agents.

The official `mcp` SDK's server does the protocol (both eras: the initialize handshake and the
2026 per-request form), stateless and in JSON-response mode: every POST is one exchange and
nothing outlives it, so any node of a fleet answers any call. Before the SDK sees a byte, the
caller's API token is checked here (401 otherwise); the tools then act as that token, through
the same services as the JSON API: `list_chatbots`, `ask` (a chat turn on channel `api`; a
`session_id` continues a conversation) and `search` (retrieval as the bot does it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import anyio
from litestar import Request
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send

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

log = logging.getLogger("modelpilot.mcp")
CALLER = "modelpilot.mcp_caller"  # the scope key the endpoint leaves the checked caller under


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
    # A handoff (a keyword, or a person already on it) answers without the model: say so.
    answer = "".join(parts) or last.get("offline_message") or HANDED_OVER.get(last.get("status"), "")
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


HANDED_OVER = {"waiting": "This conversation is waiting for a person from the team to answer.",
               "human": "A person from the team has this conversation; their replies are in its log."}
HANDLERS = {"list_chatbots": list_chatbots, "ask": ask, "search": search}


class McpEndpoint:
    """The SDK's session manager, started by the first /mcp request (importing the SDK costs about
    a second, which start-up and /healthz should not wait for) and stopped with the app. Its task
    group lives in a task of its own, so requests come and go around it."""

    def __init__(self) -> None:
        self.manager = None
        self._starting = anyio.Lock()
        self._stop = anyio.Event()
        self._runner: asyncio.Task | None = None

    async def ready(self):
        if self.manager is None:
            async with self._starting:
                if self.manager is None:
                    from modelpilot.openif.mcp_sdk import session_manager

                    manager, started = session_manager(HANDLERS, CALLER), anyio.Event()
                    runner = asyncio.create_task(self._run(manager, started))
                    waiting = asyncio.ensure_future(started.wait())
                    await asyncio.wait({runner, waiting}, return_when=asyncio.FIRST_COMPLETED)
                    if not started.is_set():  # the manager failed to start: say why, here
                        waiting.cancel()
                        runner.result()
                    self._runner, self.manager = runner, manager
        return self.manager

    async def _run(self, manager, started) -> None:
        async with manager.run():
            started.set()
            await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            try:
                await self._runner
            except Exception:  # shutting down either way; the reason belongs in the log
                log.exception("the MCP session manager failed while stopping")


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
    manager = await app_state["mcp"].ready()
    await manager.handle_request(scope, receive, send)
