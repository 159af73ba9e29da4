"""Stripe webhook: verify the signature on the raw body, apply each event once, in any order.

Each event id is claimed in the same write transaction as its effect, so a replay (Stripe
retries, an attacker re-posting a captured request within the tolerance) changes nothing.
Arrival order is not trusted: a subscription snapshot is applied only if it is newer than what
is stored (see `supersedes`), and payment state keeps the newest failure and success apart.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import stripe

from modelpilot.billing import repo
from modelpilot.billing.plans import Catalog, load_catalog
from modelpilot.billing.service import LIVE_STATUSES
from modelpilot.core import audit
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import iso_from_epoch
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.billing.webhook")
TOLERANCE_SECONDS = 300

Outcome = tuple[str | None, str]  # (workspace id, what happened)
# Does a workspace exist? Asked of the workspaces domain, which billing must not import: the app
# passes its function in (see app.py).
WorkspaceExists = Callable[[Connection, str], Awaitable[bool]]


@dataclass(frozen=True)
class Context:
    """What a handler needs besides the event: the plan catalog and the workspace lookup."""

    catalog: Catalog
    workspace_exists: WorkspaceExists


def verified_event(settings: Settings, raw: bytes, signature: str | None) -> dict:
    if not settings.stripe_webhook_secret:
        raise ApiError(503, "billing_disabled", "No Stripe webhook secret is configured on this instance.")
    try:
        text = raw.decode("utf-8")  # the library decodes too, and would raise past its own error type
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_payload",
                       "The event body is not UTF-8 text, so it cannot be a Stripe event.") from None
    try:
        stripe.WebhookSignature.verify_header(text, signature, settings.stripe_webhook_secret,
                                              tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise ApiError(400, "invalid_signature", f"Stripe signature rejected: {exc.user_message or exc}") from None
    _refuse_future_timestamp(signature or "")
    try:
        event = json.loads(text)
    except json.JSONDecodeError:
        raise ApiError(400, "invalid_payload", "The event is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str) \
            or not isinstance(event.get("created"), int) or not isinstance(event.get("data"), dict):
        raise ApiError(400, "invalid_payload", "The event lacks id, type, created or data.")
    return event


def _refuse_future_timestamp(signature: str) -> None:
    """The library only refuses old timestamps; one dated far ahead would stay replayable until then."""
    stamps = [value for key, _, value in (item.partition("=") for item in signature.split(",")) if key == "t"]
    if stamps and int(stamps[0]) > time.time() + TOLERANCE_SECONDS:  # the one the library verified
        raise ApiError(400, "invalid_signature",
                       "Stripe signature rejected: its timestamp is further in the future than "
                       f"the {TOLERANCE_SECONDS} s tolerance (check this server's clock).")


async def handle_webhook(db: Database, settings: Settings, raw: bytes, signature: str | None,
                         workspace_exists: WorkspaceExists) -> dict:
    event = verified_event(settings, raw, signature)
    handler = HANDLERS.get(event["type"])
    context = Context(load_catalog(settings), workspace_exists)
    async with db.write() as conn:
        if not await repo.record_event(conn, event["id"], event["type"], event["created"]):
            return {"received": True, "duplicate": True}
        obj = event["data"].get("object")
        if handler is None or not isinstance(obj, dict):
            workspace_id, outcome = None, "ignored"
        else:
            workspace_id, outcome = await handler(conn, context, event, obj)
        await repo.finish_event(conn, event["id"], workspace_id, outcome)
    log.info("stripe event %s %s: %s (workspace %s)", event["id"], event["type"], outcome, workspace_id)
    return {"received": True, "outcome": outcome}


async def _workspace_for(conn: Connection, context: Context, metadata: Any, customer: Any) -> str | None:
    """Our own metadata names the workspace; otherwise the customer we linked to it."""
    candidate = metadata.get("workspace_id") if isinstance(metadata, dict) else None
    if isinstance(candidate, str) and await context.workspace_exists(conn, candidate):
        return candidate
    if isinstance(customer, str):
        return await repo.workspace_of_customer(conn, customer)
    return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _first_item(sub: dict) -> dict:
    items = _dict(sub.get("items")).get("data")
    return _dict(items[0]) if isinstance(items, list) and items else {}


def _period_bound(sub: dict, name: str) -> str | None:
    # Newer API versions keep the current period on the subscription item, older ones on the subscription.
    value = sub.get(name) or _first_item(sub).get(name)
    return iso_from_epoch(value) if isinstance(value, int) else None


def subscription_state(catalog: Catalog, sub: dict, version: int, deleted: bool) -> dict:
    price = _dict(_first_item(sub).get("price")).get("id")
    plan = catalog.by_price(price) or catalog.get(_dict(sub.get("metadata")).get("plan"))
    if plan is None:
        log.warning("subscription %s has price %s that matches no plan", sub.get("id"), price)
    return {
        "stripe_subscription_id": sub.get("id"),
        "subscription_plan": plan.id if plan else None,
        "subscription_status": "canceled" if deleted else str(sub.get("status") or "incomplete"),
        "subscription_created": sub.get("created") if isinstance(sub.get("created"), int) else version,
        "state_version": version,
        "period_start": _period_bound(sub, "current_period_start"),
        "period_end": _period_bound(sub, "current_period_end"),
        "cancel_at_period_end": int(bool(sub.get("cancel_at_period_end"))),
    }


def supersedes(account: dict, incoming: dict) -> bool:
    """Does this snapshot describe the workspace's subscription more recently than the stored one?"""
    current_id = account["stripe_subscription_id"]
    if current_id is None:
        return True
    if current_id != incoming["stripe_subscription_id"]:
        # Two subscriptions: a live one beats an ended one; otherwise the newer subscription.
        current_live = account["subscription_status"] in LIVE_STATUSES
        incoming_live = incoming["subscription_status"] in LIVE_STATUSES
        if current_live != incoming_live:
            return incoming_live
        return (incoming["subscription_created"] or 0) > (account["subscription_created"] or 0)
    if account["subscription_status"] == "canceled":
        return False  # a canceled subscription never comes back; later-arriving updates are older
    if incoming["subscription_status"] == "canceled":
        return True
    return incoming["state_version"] >= account["state_version"]


async def _apply_subscription(conn: Connection, workspace_id: str, state: dict, customer: Any) -> str:
    account = await repo.ensure_account(conn, workspace_id)
    if isinstance(customer, str) and not account["stripe_customer_id"]:
        await repo.set_customer(conn, workspace_id, customer)
    if not supersedes(account, state):
        return "stale"
    await repo.set_subscription(conn, workspace_id, state)
    await audit.record(conn, workspace_id, "billing.subscription_changed", target_type="subscription",
                       target_id=state["stripe_subscription_id"] or "",
                       details={"plan": state["subscription_plan"], "status": state["subscription_status"]})
    return "applied"


async def on_subscription(conn: Connection, context: Context, event: dict, sub: dict) -> Outcome:
    workspace_id = await _workspace_for(conn, context, sub.get("metadata"), sub.get("customer"))
    if workspace_id is None or not isinstance(sub.get("id"), str):
        return None, "unknown_workspace"
    deleted = event["type"] == "customer.subscription.deleted"
    state = subscription_state(context.catalog, sub, event["created"], deleted)
    return workspace_id, await _apply_subscription(conn, workspace_id, state, sub.get("customer"))


async def on_checkout_completed(conn: Connection, context: Context, event: dict, session: dict) -> Outcome:
    """Link the customer; until the subscription's own events arrive, assume it is active."""
    workspace_id = session.get("client_reference_id")
    if not isinstance(workspace_id, str) or not await context.workspace_exists(conn, workspace_id):
        workspace_id = await _workspace_for(conn, context, session.get("metadata"), session.get("customer"))
    if workspace_id is None:
        return None, "unknown_workspace"
    account = await repo.ensure_account(conn, workspace_id)
    if isinstance(session.get("customer"), str) and not account["stripe_customer_id"]:
        await repo.set_customer(conn, workspace_id, session["customer"])
    sub_id = session.get("subscription")
    plan = context.catalog.get(_dict(session.get("metadata")).get("plan"))
    if not isinstance(sub_id, str) or plan is None or account["stripe_subscription_id"] == sub_id:
        return workspace_id, "linked"
    # state_version 0: any real snapshot of this subscription, however old, replaces this guess.
    state = {"stripe_subscription_id": sub_id, "subscription_plan": plan.id, "subscription_status": "active",
             "subscription_created": event["created"], "state_version": 0, "period_start": None,
             "period_end": None, "cancel_at_period_end": 0}
    return workspace_id, await _apply_subscription(conn, workspace_id, state, session.get("customer"))


def _on_invoice(failed: bool):
    async def handle(conn: Connection, context: Context, event: dict, invoice: dict) -> Outcome:
        workspace_id = await _workspace_for(conn, context, _dict(invoice.get("subscription_details")).get("metadata"),
                                            invoice.get("customer"))
        if workspace_id is None:
            return None, "unknown_workspace"
        await repo.ensure_account(conn, workspace_id)
        await repo.note_payment(conn, workspace_id, failed, event["created"])
        if failed:
            await audit.record(conn, workspace_id, "billing.payment_failed", target_type="invoice",
                               target_id=str(invoice.get("id") or ""))
        return workspace_id, "applied"

    return handle


Handler = Callable[[Connection, Context, dict, dict], Awaitable[Outcome]]
HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": on_checkout_completed,
    "customer.subscription.created": on_subscription,
    "customer.subscription.updated": on_subscription,
    "customer.subscription.deleted": on_subscription,
    "invoice.payment_failed": _on_invoice(failed=True),
    "invoice.paid": _on_invoice(failed=False),
    "invoice.payment_succeeded": _on_invoice(failed=False),
}
