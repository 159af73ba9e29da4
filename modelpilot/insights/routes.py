"""Answer quality routes (API.md "Answer quality"): unanswered questions, improving an answer."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import Parameter

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.insights import service
from modelpilot.insights.schemas import ImproveBody
from modelpilot.knowledge.service import Knowledge

WS = "/api/v1/workspaces/{ws:str}"


@get(WS + "/insights/unanswered", tags=["insights"])
async def unanswered(
    db: Database, access: WorkspaceAccess, chatbot_id: Annotated[str | None, Parameter(max_length=200)] = None,
    start: Annotated[str | None, Parameter(query="from", max_length=40)] = None,
    end: Annotated[str | None, Parameter(query="to", max_length=40)] = None,
) -> dict:
    return await service.unanswered_groups(db, access.workspace_id, chatbot_id, start, end)


@post(WS + "/conversations/{conversation_id:str}/messages/{message_id:str}/improve", tags=["insights"],
      status_code=201)
async def improve(knowledge: Knowledge, access: WorkspaceAccess, conversation_id: str, message_id: str,
                  data: ImproveBody) -> dict:
    return await service.improve_answer(knowledge, access, conversation_id, message_id, data.answer)


ROUTES = [unanswered, improve]
