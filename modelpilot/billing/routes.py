"""Billing routes: status, Stripe Checkout and portal, and Stripe's webhook."""

from __future__ import annotations

from litestar import Request, get, post

from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import checkout, service, webhooks
from modelpilot.billing.schemas import CheckoutBody
from modelpilot.billing.service import TenantLookups
from modelpilot.core.db import Database
from modelpilot.settings import Settings

WS = "/api/v1/workspaces/{ws:str}/billing"


@get(WS, tags=["billing"])
async def billing_status(db: Database, settings: Settings, access: WorkspaceAccess,
                         tenant_lookups: TenantLookups) -> dict:
    return await service.billing_status(db, settings, access.workspace_id, tenant_lookups.counters)


@post(WS + "/checkout", tags=["billing"], status_code=200)
async def start_checkout(db: Database, settings: Settings, access: WorkspaceAccess, data: CheckoutBody,
                         workspace: dict) -> dict:
    return await checkout.start_checkout(db, settings, access, data.plan, workspace["name"])


@post(WS + "/portal", tags=["billing"], status_code=200)
async def open_portal(db: Database, settings: Settings, access: WorkspaceAccess) -> dict:
    return await checkout.open_portal(db, settings, access)


@post("/api/v1/billing/stripe/webhook", tags=["billing"], status_code=200)
async def stripe_webhook(request: Request, db: Database, settings: Settings,
                         tenant_lookups: TenantLookups) -> dict:
    # The signature covers the exact bytes Stripe sent: read them before anything parses the body.
    raw = await request.body()
    return await webhooks.handle_webhook(db, settings, raw, request.headers.get("stripe-signature"),
                                         tenant_lookups.workspace_exists)


ROUTES = [billing_status, start_checkout, open_portal, stripe_webhook]
