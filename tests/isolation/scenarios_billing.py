"""Isolation scenarios for billing: status, Checkout and portal are per workspace; the webhook is Stripe's."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    """Billing is off in the isolation world; workspace A's status must still never show to B."""
    a.ok("GET", f"/api/v1/workspaces/{a.ws}/billing")


PUBLIC = {
    "POST /api/v1/billing/stripe/webhook": "Stripe's signature on the raw body is the authority",
}

SCENARIOS = {
    "GET /api/v1/workspaces/{ws}/billing": {},
    "POST /api/v1/workspaces/{ws}/billing/checkout": {"json": {"plan": "starter"}},
    "POST /api/v1/workspaces/{ws}/billing/portal": {},
}
