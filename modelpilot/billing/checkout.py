"""Buying and managing a plan: Stripe Checkout, the customer portal, and plans set by hand."""

from __future__ import annotations

import time
import uuid

from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import repo, stripe_api
from modelpilot.billing.plans import load_catalog
from modelpilot.billing.service import billing_enabled, subscription_is_live
from modelpilot.core import audit
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, invalid
from modelpilot.settings import Settings


async def refuse_delete_while_subscribed(conn: Connection, workspace_id: str) -> None:
    """Deleting the workspace would not stop Stripe billing it: the subscription must end first."""
    if subscription_is_live(await repo.get_account(conn, workspace_id)):
        raise ApiError(409, "subscription_active", "This workspace has an active subscription; "
                                                    "cancel it in the billing portal before deleting the workspace.")


# Repeated clicks on "Subscribe" within this window reuse one Checkout session (same key).
CHECKOUT_KEY_WINDOW_SECONDS = 600


def require_enabled(settings: Settings) -> None:
    if not billing_enabled(settings):
        raise ApiError(409, "billing_disabled", "Billing is disabled on this instance.")


async def _customer_id(db: Database, settings: Settings, access: WorkspaceAccess, workspace_name: str) -> str:
    async with db.read() as conn:
        account = await repo.get_account(conn, access.workspace_id)
    if account and account["stripe_customer_id"]:
        return account["stripe_customer_id"]
    # The idempotency key is per workspace, so two racing requests get the same customer back.
    customer_id = await stripe_api.create_customer(settings, access.workspace_id, workspace_name,
                                                   access.principal.email)
    async with db.write() as conn:
        current = await repo.ensure_account(conn, access.workspace_id)
        if not current["stripe_customer_id"]:
            await repo.set_customer(conn, access.workspace_id, customer_id)
            return customer_id
    return current["stripe_customer_id"]


async def start_checkout(db: Database, settings: Settings, access: WorkspaceAccess, plan_id: str,
                         workspace_name: str) -> dict:
    access.require("admin")
    require_enabled(settings)
    catalog = load_catalog(settings)
    if not plan_id.strip():
        raise invalid("plan", f"is required; choose one of {', '.join(catalog.plans)}")
    plan = catalog.get(plan_id)
    if plan is None:
        raise invalid("plan", f"unknown plan; choose one of {', '.join(catalog.plans)}")
    if not plan.stripe_price_id:
        raise invalid("plan", "cannot be bought: no Stripe price is configured for it")
    async with db.read() as conn:
        account = await repo.get_account(conn, access.workspace_id)
    if subscription_is_live(account):
        # A second subscription would bill twice; plan changes belong in the portal.
        raise ApiError(409, "already_subscribed", "This workspace already has a subscription; "
                                                  "change or cancel it in the billing portal.")
    customer_id = await _customer_id(db, settings, access, workspace_name)
    window = int(time.time() // CHECKOUT_KEY_WINDOW_SECONDS)
    url = await stripe_api.create_checkout_session(
        settings, workspace_id=access.workspace_id, customer_id=customer_id, plan_id=plan.id,
        price_id=plan.stripe_price_id,
        idempotency_key=f"modelpilot-checkout-{access.workspace_id}-{plan.id}-{customer_id}-{window}",
    )
    return {"url": url}


async def open_portal(db: Database, settings: Settings, access: WorkspaceAccess) -> dict:
    access.require("admin")
    require_enabled(settings)
    async with db.read() as conn:
        account = await repo.get_account(conn, access.workspace_id)
    if not account or not account["stripe_customer_id"]:
        raise ApiError(409, "no_customer", "This workspace has no Stripe customer yet; choose a plan first.")
    url = await stripe_api.create_portal_session(settings, account["stripe_customer_id"],
                                                 f"modelpilot-portal-{uuid.uuid4()}")
    return {"url": url}


def check_plan_id(settings: Settings, plan_id: str | None) -> None:
    catalog = load_catalog(settings)
    if plan_id is not None and catalog.get(plan_id) is None:
        raise invalid("plan", f"unknown plan {plan_id!r}; choose one of {', '.join(catalog.plans)} or none")


async def set_plan_by_hand(db: Database, settings: Settings, workspace: dict, plan_id: str | None) -> dict:
    """The instance owner's override (CLI): a plan for a workspace, or None to clear it."""
    check_plan_id(settings, plan_id)
    async with db.write() as conn:
        await repo.set_manual_plan(conn, workspace["id"], plan_id)
        await audit.record(conn, workspace["id"], "billing.plan_set_by_hand", target_type="workspace",
                           target_id=workspace["id"], details={"plan": plan_id})
    return workspace
