"""Checkout and portal through the real `stripe` library against the Stripe stand-in."""

from __future__ import annotations

import pytest

from tests.billing.stripe_events import event, post_event, subscription
from tests.fakes.stripe_api import CHECKOUT_HOST, PORTAL_HOST, FakeStripe
from tests.support import Api


def checkout(client: Api, body: dict, status: int | tuple = 200):
    return client.ok("POST", f"/api/v1/workspaces/{client.ws}/billing/checkout", status, json=body)


def test_checkout_creates_a_customer_once_and_a_subscription_session(billing_owner: Api, fake_stripe: FakeStripe) -> None:
    url = checkout(billing_owner, {"plan": "starter"})["url"]
    assert url.startswith(f"{CHECKOUT_HOST}/c/pay/cs_test_")
    (customer_call,) = fake_stripe.calls("/v1/customers")
    assert customer_call.params["metadata[workspace_id]"] == billing_owner.ws
    assert customer_call.params["name"] == "Acme" and customer_call.params["email"] == "owner@example.com"
    assert customer_call.headers["idempotency-key"] == f"modelpilot-customer-{billing_owner.ws}"
    (session_call,) = fake_stripe.calls("/v1/checkout/sessions")
    params = session_call.params
    assert params["mode"] == "subscription" and params["line_items[0][price]"] == "price_starter"
    assert params["client_reference_id"] == billing_owner.ws
    assert params["subscription_data[metadata][workspace_id]"] == billing_owner.ws
    assert params["subscription_data[metadata][plan]"] == "starter"
    assert params["customer"] in fake_stripe.customers
    assert session_call.headers["idempotency-key"].startswith(f"modelpilot-checkout-{billing_owner.ws}-starter-")
    # The customer is remembered; a second checkout (another plan) does not create another one.
    checkout(billing_owner, {"plan": "pro"})
    assert len(fake_stripe.calls("/v1/customers")) == 1
    assert fake_stripe.calls("/v1/checkout/sessions")[1].params["customer"] == params["customer"]


def test_a_double_click_gets_the_same_checkout_session(billing_owner: Api, fake_stripe: FakeStripe) -> None:
    first = checkout(billing_owner, {"plan": "pro"})["url"]
    second = checkout(billing_owner, {"plan": "pro"})["url"]
    assert first == second
    keys = {call.headers["idempotency-key"] for call in fake_stripe.calls("/v1/checkout/sessions")}
    assert len(keys) == 1


@pytest.mark.parametrize("body, message", [
    ({"plan": "platinum"}, "unknown plan"),
    ({"plan": "free"}, "no Stripe price"),
    ({"plan": ""}, ""),
    ({}, ""),
    ({"plan": 3}, ""),
])
def test_checkout_bad_input_is_a_400_naming_plan(billing_owner: Api, fake_stripe: FakeStripe,
                                                 body: dict, message: str) -> None:
    response = billing_owner.post(f"/api/v1/workspaces/{billing_owner.ws}/billing/checkout", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"][0]["field"] == "plan"
    assert message in error["message"]
    assert fake_stripe.requests == []


def test_a_price_stripe_does_not_know_is_a_502_not_a_500(billing_owner: Api, fake_stripe: FakeStripe) -> None:
    fake_stripe.known_prices.discard("price_pro")
    response = billing_owner.post(f"/api/v1/workspaces/{billing_owner.ws}/billing/checkout", json={"plan": "pro"})
    assert response.status_code == 502 and response.json()["error"]["code"] == "stripe_error"


def test_only_admins_start_checkout_or_open_the_portal(billing_owner: Api, billing_server) -> None:
    editor = Api(billing_server.url)
    billing_owner.invite_and_join(editor, "editor@example.com", "editor")
    ws = billing_owner.ws
    editor.ok("POST", f"/api/v1/workspaces/{ws}/billing/checkout", 403, json={"plan": "pro"})
    editor.ok("POST", f"/api/v1/workspaces/{ws}/billing/portal", 403)
    assert editor.ok("GET", f"/api/v1/workspaces/{ws}/billing")["plan"]["id"] == "free"
    editor.close()


def test_portal_needs_a_customer_then_returns_stripes_url(billing_owner: Api, fake_stripe: FakeStripe) -> None:
    portal = f"/api/v1/workspaces/{billing_owner.ws}/billing/portal"
    response = billing_owner.post(portal)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_customer"
    checkout(billing_owner, {"plan": "starter"})
    url = billing_owner.ok("POST", portal, 200)["url"]
    assert url.startswith(f"{PORTAL_HOST}/p/session/bps_")
    (call,) = fake_stripe.calls("/v1/billing_portal/sessions")
    assert call.params["return_url"].endswith("/#/billing") and call.headers["idempotency-key"]


def test_a_subscribed_workspace_changes_plan_in_the_portal_not_checkout(billing_owner: Api) -> None:
    post_event(billing_owner, event("customer.subscription.created",
                                    subscription("sub_1", billing_owner.ws, "price_starter")))
    response = billing_owner.post(f"/api/v1/workspaces/{billing_owner.ws}/billing/checkout", json={"plan": "pro"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_subscribed"


def test_without_stripe_billing_is_disabled(owner: Api) -> None:
    shown = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/billing")
    assert shown["enabled"] is False and shown["plan"] is None and shown["quota"] is None
    assert shown["message"] == "Billing is disabled on this instance." and shown["warning"] is False
    for path, body in (("checkout", {"plan": "pro"}), ("portal", None)):
        response = owner.post(f"/api/v1/workspaces/{owner.ws}/billing/{path}", json=body)
        assert response.status_code == 409 and response.json()["error"]["code"] == "billing_disabled"
