"""The OpenAI-compatible API under /v1: every chatbot of the token's workspace is a model.

Errors here are OpenAI's body (openif/errors.py), from the first check on: an OpenAI SDK pointed
at `https://HOST/v1` raises the exception it would raise for OpenAI.
"""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.response import Stream

from modelpilot.chat.sse import SSE_HEADERS, first_event
from modelpilot.chatbots import service as chatbots
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError
from modelpilot.openif import completions
from modelpilot.openif.access import MessageLimit, token_access
from modelpilot.openif.errors import EXCEPTION_HANDLERS_V1
from modelpilot.settings import Settings


@get("/models", tags=["open interfaces"])
async def list_models(request: Request, db: Database) -> dict:
    access = await token_access(request)
    return completions.models_list(await chatbots.bots_of(db, access.workspace_id))


@get("/models/{model:str}", tags=["open interfaces"])
async def get_model(request: Request, db: Database, model: str) -> dict:
    access = await token_access(request)
    bot = await chatbots.find_bot(db, access.workspace_id, model)
    if bot is None:
        raise completions.model_not_found(model)
    return completions.model_of(bot)


@post("/chat/completions", tags=["open interfaces"], status_code=200)
async def chat_completions(request: Request, db: Database, settings: Settings) -> Response | Stream:
    access = await token_access(request)
    call = await completions.check_completion(db, settings, access, request.headers, await request.body())
    await MessageLimit(settings, request.app.state["throttle"]).take(access)
    events = completions.turn_events(db, settings, access, call).__aiter__()
    # The first event before any header: the quota's 402 (and an upstream failure before any
    # text) is an HTTP error an SDK raises, not a stream that fails.
    first = await first_event(events, request.receive)
    if first is None:
        raise ApiError(400, "client_gone", "The request ended before the answer began.")
    if "error" in first:
        await events.aclose()  # type: ignore[attr-defined]
        raise completions.upstream_error(first)
    if not call.stream:
        return Response(await completions.collect(first, events, call))
    return Stream(completions.chunk_stream(first, events, call), media_type="text/event-stream",
                  headers=SSE_HEADERS)


ROUTER = Router("/v1", route_handlers=[list_models, get_model, chat_completions],
                exception_handlers=EXCEPTION_HANDLERS_V1)
ROUTES = [ROUTER]
