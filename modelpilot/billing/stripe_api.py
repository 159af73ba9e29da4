"""The only place that talks to Stripe's API: customers, Checkout sessions, portal sessions.

Calls go through the official `stripe` library's synchronous client in a worker thread, so they
never block the event loop and no HTTP connection pool is tied to one loop. Every create call
carries an idempotency key, so a retry (ours or the library's) never makes a second object.
"""

from __future__ import annotations

import logging
from functools import lru_cache, partial
from typing import Any

import anyio
import stripe

from modelpilot.core.errors import ApiError
from modelpilot.settings import Settings

log = logging.getLogger("modelpilot.billing.stripe")
TIMEOUT_SECONDS = 20


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(timeout=TIMEOUT_SECONDS, allow_sync_methods=True),
        max_network_retries=2,
    )


def client_for(settings: Settings) -> stripe.StripeClient:
    return _client(settings.stripe_secret_key, settings.stripe_api_base)


async def _call(what: str, func: Any, params: dict, idempotency_key: str) -> Any:
    call = partial(func, params, {"idempotency_key": idempotency_key})
    try:
        return await anyio.to_thread.run_sync(call)
    except stripe.StripeError as exc:
        log.warning("stripe %s failed: %s (http %s, request %s)", what, exc.user_message or exc,
                    exc.http_status, getattr(exc, "request_id", None))
        raise ApiError(502, "stripe_error", "Stripe could not complete the request; try again in a moment.",
                       {"stripe_message": exc.user_message or ""}) from None


async def create_customer(settings: Settings, workspace_id: str, name: str, email: str | None) -> str:
    params: dict[str, Any] = {"name": name, "metadata": {"workspace_id": workspace_id}}
    if email:
        params["email"] = email
    customer = await _call("customer", client_for(settings).v1.customers.create, params,
                           f"modelpilot-customer-{workspace_id}")
    return customer.id


async def create_checkout_session(settings: Settings, *, workspace_id: str, customer_id: str, plan_id: str,
                                  price_id: str, idempotency_key: str) -> str:
    metadata = {"workspace_id": workspace_id, "plan": plan_id}
    params = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": workspace_id,
        "line_items": [{"price": price_id, "quantity": 1}],
        "metadata": metadata,
        # The subscription carries the workspace too, so its own events can be matched to it.
        "subscription_data": {"metadata": metadata},
        "success_url": f"{settings.base_url}/#/billing?checkout=success",
        "cancel_url": f"{settings.base_url}/#/billing?checkout=cancelled",
    }
    session = await _call("checkout session", client_for(settings).v1.checkout.sessions.create, params,
                          idempotency_key)
    return session.url


async def create_portal_session(settings: Settings, customer_id: str, idempotency_key: str) -> str:
    params = {"customer": customer_id, "return_url": f"{settings.base_url}/#/billing"}
    session = await _call("portal session", client_for(settings).v1.billing_portal.sessions.create, params,
                          idempotency_key)
    return session.url
