"""Chat (the dashboard preview and API chat) and the conversation logs."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Stream

from modelpilot.core.access import WorkspaceAccess
from modelpilot.chat import conversations, export, inbox, service
from modelpilot.chat.schemas import ChatBody
from modelpilot.chat.sse import sse_response, turn_runtime
from modelpilot.chatbots import service as chatbots
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid
from modelpilot.core.ids import new_id

WS = "/api/v1/workspaces/{ws:str}"
Text = Annotated[str | None, Parameter(max_length=200)]


@post(WS + "/chatbots/{bot:str}/chat", tags=["chat"], status_code=200)
async def chat(request: Request, state: State, access: WorkspaceAccess, bot: str, data: ChatBody) -> Stream:
    db, settings, event_bus, throttle = turn_runtime(state)
    service.require_chat_role(access)
    row = await chatbots.get_bot(db, access.workspace_id, bot)
    channel = "preview" if access.principal.is_user else "api"
    if data.confirm is not None:
        if not data.session_id:
            raise invalid("session_id", "is required to answer a confirmation")
        events = service.stream_confirm(db, settings, workspace_id=access.workspace_id, bot=row,
                                        session_id=data.session_id, call_id=data.confirm.call_id,
                                        approve=data.confirm.approve, channel=channel, bus=event_bus, throttle=throttle)
    elif data.message is None:
        raise invalid("message", "is required (or confirm, to answer an action waiting for approval)")
    else:
        events = service.stream_reply(db, settings, workspace_id=access.workspace_id, bot=row,
                                      session_id=data.session_id or new_id(), message=data.message, channel=channel,
                                      bus=event_bus, throttle=throttle)
    return await sse_response(events, request.receive)


@get(WS + "/conversations", tags=["conversations"])
async def list_conversations(
    db: Database, access: WorkspaceAccess, chatbot_id: Text = None,
    start: Annotated[str | None, Parameter(query="from", max_length=40)] = None,
    end: Annotated[str | None, Parameter(query="to", max_length=40)] = None,
    q: Text = None, cursor: Annotated[str | None, Parameter(max_length=300)] = None,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    feedback: Annotated[Literal["up", "down", "none"] | None, Parameter(description="rated helpful (up), "
                        "not helpful (down), or not rated (none)")] = None,
    unanswered: Annotated[bool, Parameter(description="only conversations with an answer no knowledge "
                          "supported (no source passed the threshold), that failed, was rated down, was "
                          "followed by a request for a person or by the same question again")] = False,
    resolved: Annotated[bool | None, Parameter(description="true: only resolved conversations (an answer, none "
                        "of them unanswered, no handoff); false: only unresolved ones")] = None,
) -> dict:
    flt = conversations.make_filter(chatbot_id, start, end, q, feedback, unanswered, resolved)
    return await conversations.list_conversations(db, access.workspace_id, flt, cursor, limit)


@get(WS + "/conversations/export", tags=["conversations"])
async def export_conversations(
    db: Database, access: WorkspaceAccess, format: Literal["csv", "jsonl"] = "csv", chatbot_id: Text = None,
    start: Annotated[str | None, Parameter(query="from", max_length=40)] = None,
    end: Annotated[str | None, Parameter(query="to", max_length=40)] = None, q: Text = None,
    feedback: Literal["up", "down", "none"] | None = None, unanswered: bool = False, resolved: bool | None = None,
) -> Stream:
    flt = conversations.make_filter(chatbot_id, start, end, q, feedback, unanswered, resolved)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    if format == "jsonl":
        body, media_type = export.export_jsonl(db, access.workspace_id, flt), "application/x-ndjson"
    else:
        body, media_type = export.export_csv(db, access.workspace_id, flt), "text/csv"  # Litestar adds the charset
    disposition = f'attachment; filename="conversations-{stamp}.{format}"'
    return Stream(body, media_type=media_type, headers={"Content-Disposition": disposition})


@get(WS + "/conversations/{conversation_id:str}", tags=["conversations"])
async def get_conversation(db: Database, access: WorkspaceAccess, conversation_id: str) -> dict:
    return await inbox.conversation_detail(db, access, conversation_id)


@delete(WS + "/conversations/{conversation_id:str}", tags=["conversations"], status_code=204)
async def delete_conversation(db: Database, access: WorkspaceAccess, conversation_id: str) -> None:
    await service.delete_conversation(db, access, conversation_id)


ROUTES = [chat, list_conversations, export_conversations, get_conversation, delete_conversation]
