"""Webhook endpoint routes (API.md "Outbound webhooks"): endpoints, test, delivery log, redeliver."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import Parameter

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.settings import Settings
from modelpilot.webhooks import service
from modelpilot.webhooks.events import EVENT_TYPES
from modelpilot.webhooks.schemas import WebhookBody, WebhookPatch

WS = "/api/v1/workspaces/{ws:str}"
HOOK = WS + "/webhooks/{webhook:str}"
Cursor = Annotated[str | None, Parameter(max_length=300)]
Limit = Annotated[int, Parameter(ge=1, le=100)]


@get(WS + "/webhooks", tags=["webhooks"])
async def list_webhooks(db: Database, access: WorkspaceAccess, cursor: Cursor = None, limit: Limit = 50) -> dict:
    page = await service.list_endpoints(db, access, cursor, limit)
    return {**page, "event_types": list(EVENT_TYPES)}


@post(WS + "/webhooks", tags=["webhooks"], status_code=201)
async def create_webhook(db: Database, settings: Settings, access: WorkspaceAccess, data: WebhookBody) -> dict:
    return await service.create_endpoint(db, settings, access, data.url, data.events, data.description, data.enabled)


@get(HOOK, tags=["webhooks"])
async def get_webhook(db: Database, access: WorkspaceAccess, webhook: str) -> dict:
    return await service.get_endpoint(db, access, webhook)


@patch(HOOK, tags=["webhooks"])
async def update_webhook(db: Database, settings: Settings, access: WorkspaceAccess, webhook: str,
                         data: WebhookPatch) -> dict:
    return await service.update_endpoint(db, settings, access, webhook, data.changes())


@delete(HOOK, tags=["webhooks"], status_code=204)
async def delete_webhook(db: Database, access: WorkspaceAccess, webhook: str) -> None:
    await service.delete_endpoint(db, access, webhook)


@post(HOOK + "/rotate-secret", tags=["webhooks"], status_code=200)
async def rotate_webhook_secret(db: Database, settings: Settings, access: WorkspaceAccess, webhook: str) -> dict:
    """A new signing secret, shown once; the old one stops signing at once."""
    return await service.rotate_secret(db, settings, access, webhook)


@post(HOOK + "/test", tags=["webhooks"], status_code=202)
async def test_webhook(db: Database, access: WorkspaceAccess, webhook: str) -> dict:
    return await service.send_test(db, access, webhook)


@get(HOOK + "/deliveries", tags=["webhooks"])
async def list_deliveries(db: Database, access: WorkspaceAccess, webhook: str, cursor: Cursor = None,
                          limit: Limit = 50) -> dict:
    return await service.list_deliveries(db, access, webhook, cursor, limit)


@post(HOOK + "/deliveries/{delivery:str}/redeliver", tags=["webhooks"], status_code=202)
async def redeliver(db: Database, access: WorkspaceAccess, webhook: str, delivery: str) -> dict:
    return await service.redeliver(db, access, webhook, delivery)


ROUTES = [list_webhooks, create_webhook, get_webhook, update_webhook, delete_webhook, rotate_webhook_secret,
          test_webhook, list_deliveries, redeliver]
