"""Usage analytics per day, model or chatbot."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import get
from litestar.params import Parameter

from modelpilot.analytics import service
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database

WS = "/api/v1/workspaces/{ws:str}"


@get(WS + "/analytics/usage", tags=["analytics"])
async def usage(
    db: Database, access: WorkspaceAccess, group_by: Literal["day", "model", "chatbot"] = "day",
    start: Annotated[str | None, Parameter(query="from", max_length=40)] = None,
    end: Annotated[str | None, Parameter(query="to", max_length=40)] = None,
    chatbot_id: Annotated[str | None, Parameter(max_length=200)] = None,
) -> dict:
    return await service.usage(db, access.workspace_id, group_by, start, end, chatbot_id)


@get(WS + "/analytics/tools", tags=["analytics"])
async def tools(
    db: Database, access: WorkspaceAccess,
    start: Annotated[str | None, Parameter(query="from", max_length=40)] = None,
    end: Annotated[str | None, Parameter(query="to", max_length=40)] = None,
    chatbot_id: Annotated[str | None, Parameter(max_length=200)] = None,
) -> dict:
    return await service.tools(db, access.workspace_id, start, end, chatbot_id)


ROUTES = [usage, tools]
