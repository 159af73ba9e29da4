"""HTTP action routes: a bot's actions, CRUD and the test button. Editors and admins write; viewers read."""

from __future__ import annotations

from litestar import delete, get, patch, post

from modelpilot.actions import service
from modelpilot.actions.schemas import CreateActionBody, TestActionBody, UpdateActionBody
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.settings import Settings

BOT = "/api/v1/workspaces/{ws:str}/chatbots/{bot:str}/actions"
ONE = BOT + "/{action_id:str}"


@get(BOT, tags=["actions"])
async def list_actions(db: Database, access: WorkspaceAccess, bot: str) -> dict:
    return await service.list_actions(db, access, bot)


@post(BOT, tags=["actions"], status_code=201)
async def create_action(db: Database, settings: Settings, access: WorkspaceAccess, bot: str,
                        data: CreateActionBody) -> dict:
    return await service.create_action(db, settings, access, bot, data)


@get(ONE, tags=["actions"])
async def get_action(db: Database, access: WorkspaceAccess, bot: str, action_id: str) -> dict:
    return (await service.get_action(db, access.workspace_id, bot, action_id)).public()


@patch(ONE, tags=["actions"])
async def update_action(db: Database, settings: Settings, access: WorkspaceAccess, bot: str, action_id: str,
                        data: UpdateActionBody) -> dict:
    return await service.update_action(db, settings, access, bot, action_id, data)


@delete(ONE, tags=["actions"], status_code=204)
async def delete_action(db: Database, access: WorkspaceAccess, bot: str, action_id: str) -> None:
    await service.delete_action(db, access, bot, action_id)


@post(ONE + "/test", tags=["actions"], status_code=200)
async def test_action(db: Database, settings: Settings, access: WorkspaceAccess, bot: str, action_id: str,
                      data: TestActionBody) -> dict:
    return await service.test_action(db, settings, access, bot, action_id, data)


ROUTES = [list_actions, create_action, get_action, update_action, delete_action, test_action]
