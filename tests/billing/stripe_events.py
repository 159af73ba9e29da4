"""Stripe-shaped events, and signatures made exactly as Stripe makes them.

Stripe signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and sends
`Stripe-Signature: t=<timestamp>,v1=<hex digest>`. This is written out here rather than taken
from the library, so the tests check the server against the scheme, not against itself.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

WEBHOOK_SECRET = "whsec_test_secret"
WEBHOOK = "/api/v1/billing/stripe/webhook"
_ids = itertools.count(1)


def signature_header(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type: str, obj: dict, created: int | None = None, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_test{next(_ids):06d}", "object": "event", "type": event_type,
            "created": int(time.time()) if created is None else created, "livemode": False,
            "api_version": "2025-09-30.clover", "data": {"object": obj}}


def subscription(sub_id: str, ws: str, price: str, status: str = "active", *, created: int = 1_700_000_000,
                 customer: str = "cus_fake000001", period: tuple[int, int] | None = None,
                 cancel_at_period_end: bool = False) -> dict:
    """A subscription object; the current period sits on its item, as in current API versions."""
    start, end = period or (int(time.time()) - 86400, int(time.time()) + 29 * 86400)
    item = {"id": f"si_{sub_id}", "object": "subscription_item", "price": {"id": price, "object": "price"},
            "current_period_start": start, "current_period_end": end, "quantity": 1}
    return {"id": sub_id, "object": "subscription", "customer": customer, "status": status, "created": created,
            "cancel_at_period_end": cancel_at_period_end, "metadata": {"workspace_id": ws},
            "items": {"object": "list", "data": [item]}}


def checkout_completed(ws: str, plan: str, customer: str = "cus_fake000001", sub_id: str = "sub_1") -> dict:
    return {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "client_reference_id": ws,
            "customer": customer, "subscription": sub_id, "metadata": {"workspace_id": ws, "plan": plan},
            "status": "complete"}


def invoice(customer: str = "cus_fake000001", invoice_id: str = "in_1") -> dict:
    return {"id": invoice_id, "object": "invoice", "customer": customer}


def post_event(client, evt: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """Send an event as Stripe does: the exact bytes that were signed, with the signature header."""
    payload = json.dumps(evt)
    headers = {"Stripe-Signature": signature_header(payload, secret, timestamp), "Content-Type": "application/json"}
    return client.post(WEBHOOK, content=payload.encode(), headers=headers)
