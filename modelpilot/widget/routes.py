"""Public widget routes: /widget.js, its lazily loaded chat module, and /api/v1/widget/{bot_id}/*.

No session or token here: the bot id and the page's Origin (checked against the bot's allowed
origins) are the authority, and rate limits and the daily cap bound what a visitor can spend.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request, Response, Router, get, post, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.response import Stream

from modelpilot.chatbots.entities import Bot
from modelpilot.chat import live
from modelpilot.chat.sse import SSE_HEADERS, LiveStream, sse_response, turn_runtime
from modelpilot.core.body_type import require_json_body
from modelpilot.core.clientip import client_ip
from modelpilot.core.db import Database
from modelpilot.core.errors import EXCEPTION_HANDLERS, ApiError
from modelpilot.core.ratelimit import Throttle
from modelpilot.settings import Settings
from modelpilot.core.events import EventBus
from modelpilot.widget import guard, service
from modelpilot.contacts.identity import HEADER as IDENTITY_HEADER
from modelpilot.contacts.service import ContactConversations
from modelpilot.widget.schemas import ChatBody, FeedbackBody, HandoffBody, LeadBody, check_session_id, decode_body
from modelpilot.widget.assets import WidgetAssets, asset_response
from modelpilot.widget.build import CHAT_FILE, LOADER_FILE

BOT = "/{bot_id:str}"


class WidgetRuntime:
    """Per-process widget state: built files, rate-limit windows, the visitor-address hasher."""

    def __init__(self, settings: Settings, throttle: Throttle | None = None) -> None:
        self.assets = WidgetAssets()
        self.limits = guard.WidgetLimits(settings, throttle)
        self.hasher = guard.VisitorHasher()


def provide_runtime(state: State) -> WidgetRuntime:
    runtime = state.get("widget_runtime")
    if runtime is None:
        runtime = state["widget_runtime"] = WidgetRuntime(state["settings"], state.get("throttle"))
    return runtime


@dataclass
class Visit:
    """A widget request that passed the bot and origin checks."""

    bot: Bot
    address: str
    cors: dict[str, str]
    identity: str | None = None  # the host page's X-ModelPilot-Identity token, checked per route


async def admit(request: Request, db: Database, settings: Settings, bot_id: str) -> Visit:
    """Published bot, allowed Origin; from here on errors carry the CORS grant (see below)."""
    bot = await service.find_public_bot(db, bot_id)
    origin = request.headers.get("origin", "")
    if not guard.origin_allowed(origin, bot.allowed_origins):
        raise guard.origin_refused()
    cors = guard.cors_headers(origin)
    request.state.widget_cors = cors
    return Visit(bot=bot, address=client_ip(request, settings.trusted_proxies), cors=cors,
                 identity=request.headers.get(IDENTITY_HEADER))


def with_cors_grant(handler):
    """The project's error handler, plus the CORS grant of an admitted request.

    An allowed page must be able to read a 400/413/429 to show its message; a refused origin
    or an unknown bot gets no grant, so the browser hides even the status from that page.
    """
    def handle(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        response.headers.update(request.state.get("widget_cors") or {})
        return response

    return handle


@get("/widget.js", tags=["widget"])
async def widget_js(request: Request, widget_runtime: WidgetRuntime) -> Response:
    return asset_response(request, widget_runtime.assets.get(LOADER_FILE))


@get("/widget-chat.js", tags=["widget"])
async def widget_chat_js(request: Request, widget_runtime: WidgetRuntime) -> Response:
    return asset_response(request, widget_runtime.assets.get(CHAT_FILE))


@route([BOT + "/config", BOT + "/chat", BOT + "/history", BOT + "/feedback", BOT + "/handoff", BOT + "/events",
        BOT + "/lead"],
       http_method=[HttpMethod.OPTIONS], tags=["widget"], include_in_schema=False)
async def preflight(request: Request, db: Database, settings: Settings, bot_id: str,
                    widget_runtime: WidgetRuntime) -> Response:
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    return Response(content=b"", status_code=204, headers={**visit.cors, **guard.PREFLIGHT_HEADERS})


@get(BOT + "/config", tags=["widget"])
async def widget_config(request: Request, db: Database, settings: Settings, bot_id: str,
                        widget_runtime: WidgetRuntime) -> Response:
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    await service.check_identity(db, settings, visit.bot, visit.identity)
    headers = {**visit.cors, "Cache-Control": "no-cache"}
    return Response(service.public_config(visit.bot, settings), headers=headers)


@post(BOT + "/chat", tags=["widget"], status_code=200)
async def widget_chat(request: Request, state: State, bot_id: str) -> Stream:
    db, settings, event_bus, throttle = turn_runtime(state)  # from the state, not as dependencies (why: there)
    widget_runtime = provide_runtime(state)
    visit = await admit(request, db, settings, bot_id)
    require_json_body(request.scope)
    body = decode_body(await request.body(), ChatBody)  # any `history` a client sends is ignored
    session_id = check_session_id(body.session_id)
    if body.confirm is None:
        message = service.check_message(body.message or "", settings)
    else:
        service.check_call_id(body.confirm.call_id)
    # An answer to a confirmation calls the model too: it counts as a message.
    await widget_runtime.limits.check_message(visit.address, bot_id, session_id)
    known, session_id = await service.visitor_of(db, settings, visit.bot, session_id, visit.identity)
    await service.count_daily_message(db, visit.bot, settings.widget_daily_messages)
    address_hash = widget_runtime.hasher.hash(visit.address)
    if body.confirm is not None:
        events = service.confirm(db, settings, visit.bot, session_id, body.confirm.call_id, body.confirm.approve,
                                 address_hash, event_bus, throttle, visitor=known)
    else:
        events = service.reply(db, settings, visit.bot, session_id, message, address_hash, event_bus, body.page_url,
                               throttle, visitor=known)
    stream = await sse_response(events, request.receive)
    stream.headers.update(visit.cors)
    return stream


@get(BOT + "/history", tags=["widget"])
async def widget_history(request: Request, db: Database, settings: Settings, bot_id: str,
                         widget_runtime: WidgetRuntime, session_id: str | None = None) -> Response:
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    known, effective = await service.visitor_of(db, settings, visit.bot, check_session_id(session_id), visit.identity)
    body = await service.history(db, visit.bot, effective, known)
    return Response(body, headers={**visit.cors, "Cache-Control": "no-store"})


@post(BOT + "/feedback", tags=["widget"], status_code=204)
async def widget_feedback(request: Request, db: Database, settings: Settings, bot_id: str,
                          widget_runtime: WidgetRuntime) -> Response[None]:
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    require_json_body(request.scope)
    body = decode_body(await request.body(), FeedbackBody)
    _, session_id = await service.visitor_of(db, settings, visit.bot, check_session_id(body.session_id), visit.identity)
    await service.feedback(db, visit.bot, session_id, body.message_id, body.rating)
    return Response(content=b"", status_code=204, headers=visit.cors)


@post(BOT + "/handoff", tags=["widget"], status_code=200)
async def widget_handoff(request: Request, db: Database, settings: Settings, event_bus: EventBus, bot_id: str,
                         widget_runtime: WidgetRuntime) -> Response:
    """The visitor asks for a person: {status: waiting} or {status: offline, offline_message}."""
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    require_json_body(request.scope)
    body = decode_body(await request.body(), HandoffBody)
    known, session_id = await service.visitor_of(db, settings, visit.bot, check_session_id(body.session_id),
                                                 visit.identity)
    address_hash = widget_runtime.hasher.hash(visit.address)
    reply = await service.request_handoff(db, event_bus, visit.bot, session_id, address_hash, body.page_url, known)
    return Response(reply, headers={**visit.cors, "Cache-Control": "no-store"})


@post(BOT + "/lead", tags=["widget"], status_code=201)
async def widget_lead(request: Request, db: Database, settings: Settings, bot_id: str, widget_runtime: WidgetRuntime,
                      contact_conversations: ContactConversations) -> Response:
    """The lead form: {session_id, fields, consent} -> 201 {contact_id}; 400 naming every bad field."""
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    require_json_body(request.scope)
    body = decode_body(await request.body(), LeadBody)
    known, session_id = await service.visitor_of(db, settings, visit.bot, check_session_id(body.session_id),
                                                 visit.identity)
    await widget_runtime.limits.check_message(visit.address, bot_id, session_id)
    reply = await service.submit_lead(db, visit.bot, session_id, known, body.fields, body.consent,
                                      contact_conversations)
    return Response(reply, status_code=201, headers={**visit.cors, "Cache-Control": "no-store"})


@get(BOT + "/events", tags=["widget"])
async def widget_events(request: Request, db: Database, settings: Settings, event_bus: EventBus, bot_id: str,
                        widget_runtime: WidgetRuntime, session_id: str | None = None,
                        last_event_id: str | None = None) -> Stream:
    """SSE of the session: operator and system messages, status changes; resumes after Last-Event-ID."""
    visit = await admit(request, db, settings, bot_id)
    await widget_runtime.limits.check_request(visit.address)
    session_id = check_session_id(session_id)
    start = live.parse_last_event_id(request.headers.get("last-event-id"), last_event_id)
    body = live.visitor_events(db, event_bus, visit.bot.workspace_id, visit.bot.id, session_id, start,
                               settings.events_heartbeat_seconds)
    return LiveStream(body, media_type="text/event-stream", headers={**SSE_HEADERS, **visit.cors})


WIDGET_API = Router(
    path="/api/v1/widget",
    route_handlers=[preflight, widget_config, widget_chat, widget_history, widget_feedback, widget_handoff,
                    widget_lead, widget_events],
    exception_handlers={kind: with_cors_grant(EXCEPTION_HANDLERS[kind]) for kind in (ApiError, HTTPException)},
)

DEPENDENCIES = {"widget_runtime": Provide(provide_runtime, sync_to_thread=False)}

ROUTES = [
    Router(path="/", route_handlers=[widget_js, widget_chat_js, WIDGET_API], dependencies=DEPENDENCIES),
]
