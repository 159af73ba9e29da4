"""The inbox: conversations waiting for people, taking and answering them, the workspace's live
event stream, and saved replies (API.md "Human handoff and the inbox")."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, delete, get, patch, post
from litestar.params import Parameter
from litestar.response import Stream

from modelpilot.chat import inbox, live, saved_replies
from modelpilot.chat.inbox_schemas import AssignBody, OperatorMessageBody, SavedReplyBody, SavedReplyPatch
from modelpilot.chat.sse import SSE_HEADERS, LiveStream
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.events import EventBus
from modelpilot.settings import Settings

WS = "/api/v1/workspaces/{ws:str}"
CONV = WS + "/conversations/{conversation_id:str}"


@get(WS + "/inbox", tags=["inbox"])
async def list_inbox(
    db: Database, access: WorkspaceAccess,
    status: Annotated[str, Parameter(max_length=20, description="waiting, human, mine or all")] = "all",
    chatbot_id: Annotated[str | None, Parameter(max_length=64)] = None,
    cursor: Annotated[str | None, Parameter(max_length=100)] = None,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
) -> dict:
    return await inbox.list_inbox(db, access, status, chatbot_id, cursor, limit)


@get(WS + "/events", tags=["inbox"])
async def workspace_events(request: Request, db: Database, settings: Settings, event_bus: EventBus,
                           access: WorkspaceAccess,
                           last_event_id: Annotated[str | None, Parameter(max_length=20)] = None) -> Stream:
    """SSE: conversation.waiting / message / assigned / released / closed; any member may listen."""
    start = live.parse_last_event_id(request.headers.get("last-event-id"), last_event_id)
    body = live.inbox_events(db, event_bus, access.workspace_id, access.user_id, start,
                             settings.events_heartbeat_seconds)
    return LiveStream(body, media_type="text/event-stream", headers=SSE_HEADERS)


@post(CONV + "/assign", tags=["inbox"], status_code=200)
async def assign(db: Database, event_bus: EventBus, access: WorkspaceAccess, conversation_id: str,
                 data: AssignBody | None = None) -> dict:
    data = data or AssignBody()
    return await inbox.assign(db, event_bus, access, conversation_id, data.user_id, data.takeover)


@post(CONV + "/messages", tags=["inbox"], status_code=201)
async def operator_message(db: Database, event_bus: EventBus, access: WorkspaceAccess, conversation_id: str,
                           data: OperatorMessageBody) -> dict:
    return await inbox.operator_message(db, event_bus, access, conversation_id, data.text)


@post(CONV + "/release", tags=["inbox"], status_code=200)
async def release(db: Database, event_bus: EventBus, access: WorkspaceAccess, conversation_id: str) -> dict:
    return await inbox.release(db, event_bus, access, conversation_id)


@post(CONV + "/close", tags=["inbox"], status_code=200)
async def close(db: Database, event_bus: EventBus, access: WorkspaceAccess, conversation_id: str) -> dict:
    return await inbox.close(db, event_bus, access, conversation_id)


@get(WS + "/saved-replies", tags=["inbox"])
async def list_saved_replies(db: Database, access: WorkspaceAccess) -> list[dict]:
    return await saved_replies.list_replies(db, access)


@post(WS + "/saved-replies", tags=["inbox"], status_code=201)
async def create_saved_reply(db: Database, access: WorkspaceAccess, data: SavedReplyBody) -> dict:
    return await saved_replies.create_reply(db, access, data.title, data.text)


@patch(WS + "/saved-replies/{reply_id:str}", tags=["inbox"])
async def update_saved_reply(db: Database, access: WorkspaceAccess, reply_id: str, data: SavedReplyPatch) -> dict:
    return await saved_replies.update_reply(db, access, reply_id, data)


@delete(WS + "/saved-replies/{reply_id:str}", tags=["inbox"], status_code=204)
async def delete_saved_reply(db: Database, access: WorkspaceAccess, reply_id: str) -> None:
    await saved_replies.delete_reply(db, access, reply_id)


ROUTES = [list_inbox, workspace_events, assign, operator_message, release, close,
          list_saved_replies, create_saved_reply, update_saved_reply, delete_saved_reply]
