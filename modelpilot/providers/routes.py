"""Provider routes: list (keys masked), save, delete, a one-token key test, and model lists."""

from __future__ import annotations

from litestar import delete, get, post, put

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.providers import service
from modelpilot.providers.schemas import ProviderBody, ProviderTestBody
from modelpilot.settings import Settings

WS = "/api/v1/workspaces/{ws:str}"


@get(WS + "/providers", tags=["providers"])
async def list_providers(db: Database, access: WorkspaceAccess) -> list[dict]:
    return await service.list_providers(db, access)


@put(WS + "/providers/{provider:str}", tags=["providers"])
async def save_provider(db: Database, settings: Settings, access: WorkspaceAccess, provider: str,
                        data: ProviderBody) -> dict:
    return await service.put_provider(db, settings, access, provider, data)


@delete(WS + "/providers/{provider:str}", tags=["providers"], status_code=204)
async def delete_provider(db: Database, access: WorkspaceAccess, provider: str) -> None:
    await service.delete_provider(db, access, provider)


@post(WS + "/providers/{provider:str}/test", tags=["providers"], status_code=200)
async def test_provider(db: Database, settings: Settings, access: WorkspaceAccess, provider: str,
                        data: ProviderTestBody | None = None) -> dict:
    return await service.test_provider(db, settings, access, provider, data.model if data else None)


@get(WS + "/providers/{provider:str}/models", tags=["providers"])
async def list_provider_models(db: Database, settings: Settings, access: WorkspaceAccess, provider: str) -> dict:
    return await service.provider_models(db, settings, access, provider)


@get(WS + "/models", tags=["providers"])
async def list_models(db: Database, settings: Settings, access: WorkspaceAccess) -> dict:
    """The models bots of this workspace can use, by connected provider, and the default for a new bot."""
    return await service.workspace_models(db, settings, access)


ROUTES = [list_providers, save_provider, delete_provider, test_provider, list_provider_models, list_models]
