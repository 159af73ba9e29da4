"""Chatbot routes: CRUD. Editors and admins write; viewers read."""

from __future__ import annotations

from litestar import delete, get, patch, post

from modelpilot.core.access import WorkspaceAccess
from modelpilot.chatbots import service
from modelpilot.chatbots.schemas import CreateBotBody, UpdateBotBody
from modelpilot.chatbots.service import ToolRefCheck
from modelpilot.core.db import Database
from modelpilot.settings import Settings

WS = "/api/v1/workspaces/{ws:str}"


@get(WS + "/chatbots", tags=["chatbots"])
async def list_chatbots(db: Database, access: WorkspaceAccess) -> list[dict]:
    return await service.list_bots(db, access)


@post(WS + "/chatbots", tags=["chatbots"])
async def create_chatbot(db: Database, settings: Settings, access: WorkspaceAccess, data: CreateBotBody,
                         tool_ref_check: ToolRefCheck) -> dict:
    return await service.create_bot(db, settings, access, data, tool_ref_check)


@get(WS + "/chatbots/{bot:str}", tags=["chatbots"])
async def get_chatbot(db: Database, access: WorkspaceAccess, bot: str) -> dict:
    return await service.bot_public(db, access.workspace_id, bot)


@patch(WS + "/chatbots/{bot:str}", tags=["chatbots"])
async def update_chatbot(db: Database, settings: Settings, access: WorkspaceAccess, bot: str, data: UpdateBotBody,
                         tool_ref_check: ToolRefCheck) -> dict:
    return await service.update_bot(db, access, bot, data, tool_ref_check, settings)


@delete(WS + "/chatbots/{bot:str}", tags=["chatbots"], status_code=204)
async def delete_chatbot(db: Database, access: WorkspaceAccess, bot: str) -> None:
    await service.delete_bot(db, access, bot)


@post(WS + "/chatbots/{bot:str}/identity-secret", tags=["chatbots"], status_code=201)
async def create_identity_secret(db: Database, settings: Settings, access: WorkspaceAccess, bot: str) -> dict:
    """A new identity secret for verified visitors, shown once; the previous one stops verifying."""
    return await service.create_identity_secret(db, settings, access, bot)


@delete(WS + "/chatbots/{bot:str}/identity-secret", tags=["chatbots"], status_code=204)
async def delete_identity_secret(db: Database, access: WorkspaceAccess, bot: str) -> None:
    await service.delete_identity_secret(db, access, bot)


ROUTES = [list_chatbots, create_chatbot, get_chatbot, update_chatbot, delete_chatbot, create_identity_secret,
          delete_identity_secret]
