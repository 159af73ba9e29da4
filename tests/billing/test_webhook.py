"""The Stripe webhook: signatures, tolerance, replays, out-of-order events, unknown types."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.billing.stripe_events import (
    WEBHOOK,
    WEBHOOK_SECRET,
    checkout_completed,
    event,
    invoice,
    post_event,
    signature_header,
    subscription,
)
from tests.support import Api


def status(client: Api) -> dict:
    return client.ok("GET", f"/api/v1/workspaces/{client.ws}/billing")


def test_signed_subscription_event_moves_the_workspace_to_its_plan(billing_owner: Api) -> None:
    assert status(billing_owner)["plan"]["id"] == "free"
    start, end = 1_790_000_000, 1_790_000_000 + 30 * 86400
    sub = subscription("sub_1", billing_owner.ws, "price_pro", period=(start, end))
    response = post_event(billing_owner, event("customer.subscription.created", sub))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    shown = status(billing_owner)
    assert shown["plan"]["id"] == "pro" and shown["quota"] == 20000
    assert shown["stripe"]["status"] == "active" and shown["stripe"]["customer"] is True


@pytest.mark.parametrize("tamper", ["wrong_secret", "body_changed", "no_header", "garbage_header", "no_v1"])
def test_a_bad_signature_is_refused_and_changes_nothing(billing_owner: Api, tamper: str) -> None:
    evt = event("customer.subscription.created", subscription("sub_1", billing_owner.ws, "price_pro"))
    payload = json.dumps(evt)
    headers = {"Stripe-Signature": signature_header(payload)}
    if tamper == "wrong_secret":
        headers["Stripe-Signature"] = signature_header(payload, secret="whsec_someone_else")
    elif tamper == "body_changed":
        payload = payload.replace("price_pro", "price_starter")
    elif tamper == "no_header":
        headers = {}
    elif tamper == "garbage_header":
        headers["Stripe-Signature"] = "nonsense"
    elif tamper == "no_v1":
        headers["Stripe-Signature"] = headers["Stripe-Signature"].replace("v1=", "v0=")
    response = billing_owner.post(WEBHOOK, content=payload.encode(), headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_signature"
    assert status(billing_owner)["plan"]["id"] == "free"


def test_a_timestamp_older_than_five_minutes_is_refused(billing_owner: Api) -> None:
    evt = event("customer.subscription.created", subscription("sub_1", billing_owner.ws, "price_pro"))
    response = post_event(billing_owner, evt, timestamp=int(time.time()) - 301)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert status(billing_owner)["plan"]["id"] == "free"
    # Within the tolerance the same event is accepted.
    assert post_event(billing_owner, evt, timestamp=int(time.time()) - 200).status_code == 200
    assert status(billing_owner)["plan"]["id"] == "pro"


def test_a_timestamp_further_in_the_future_than_the_tolerance_is_refused(billing_owner: Api) -> None:
    # A signature dated ahead would otherwise stay replayable for as long as it is "in the future".
    evt = event("customer.subscription.created", subscription("sub_1", billing_owner.ws, "price_pro"))
    response = post_event(billing_owner, evt, timestamp=int(time.time()) + 400)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert "future" in response.json()["error"]["message"]
    assert status(billing_owner)["plan"]["id"] == "free"
    # A clock a little ahead of ours (within the tolerance) is still accepted.
    assert post_event(billing_owner, evt, timestamp=int(time.time()) + 200).status_code == 200
    assert status(billing_owner)["plan"]["id"] == "pro"


@pytest.mark.parametrize("signed", [True, False])
def test_a_body_that_is_not_utf8_is_a_clear_400(billing_owner: Api, signed: bool) -> None:
    payload = b'{"id": "evt_\xff\xfe", "type": "customer.subscription.created"}'
    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    header = f"t={timestamp},v1={digest if signed else '0' * 64}"
    response = billing_owner.post(WEBHOOK, content=payload,
                                  headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_payload" and "UTF-8" in error["message"]
    assert status(billing_owner)["plan"]["id"] == "free"


def test_a_replayed_event_changes_nothing(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    to_pro = event("customer.subscription.updated", subscription("sub_1", ws, "price_pro"), created=now - 60)
    to_starter = event("customer.subscription.updated", subscription("sub_1", ws, "price_starter"), created=now)
    assert post_event(billing_owner, to_pro).json()["outcome"] == "applied"
    assert post_event(billing_owner, to_starter).json()["outcome"] == "applied"
    replay = post_event(billing_owner, to_pro)
    assert replay.status_code == 200 and replay.json() == {"received": True, "duplicate": True}
    assert status(billing_owner)["plan"]["id"] == "starter"


def test_a_late_update_does_not_undo_a_deletion(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    post_event(billing_owner, event("customer.subscription.created", subscription("sub_1", ws, "price_pro"),
                                    created=now - 100))
    deleted = event("customer.subscription.deleted", subscription("sub_1", ws, "price_pro", status="canceled"),
                    created=now)
    updated = event("customer.subscription.updated", subscription("sub_1", ws, "price_pro", status="past_due"),
                    created=now - 50)
    assert post_event(billing_owner, deleted).json()["outcome"] == "applied"
    assert post_event(billing_owner, updated).json()["outcome"] == "stale"
    shown = status(billing_owner)
    assert shown["plan"]["id"] == "free" and shown["stripe"]["status"] == "canceled"


def test_an_older_update_arriving_second_is_ignored(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    newer = event("customer.subscription.updated", subscription("sub_1", ws, "price_pro"), created=now)
    older = event("customer.subscription.updated", subscription("sub_1", ws, "price_starter"), created=now - 30)
    post_event(billing_owner, newer)
    assert post_event(billing_owner, older).json()["outcome"] == "stale"
    assert status(billing_owner)["plan"]["id"] == "pro"


def test_an_old_subscriptions_deletion_does_not_end_the_new_one(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    new_sub = subscription("sub_new", ws, "price_pro", created=now - 10)
    old_sub = subscription("sub_old", ws, "price_starter", status="canceled", created=now - 90 * 86400)
    post_event(billing_owner, event("customer.subscription.created", new_sub, created=now - 10))
    assert post_event(billing_owner, event("customer.subscription.deleted", old_sub, created=now)).json()["outcome"] == "stale"
    assert status(billing_owner)["plan"]["id"] == "pro"


def test_checkout_completion_links_the_customer_and_the_subscription_fills_in(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    done = event("checkout.session.completed", checkout_completed(ws, "starter", sub_id="sub_9"), created=now)
    assert post_event(billing_owner, done).json()["outcome"] == "applied"
    shown = status(billing_owner)
    assert shown["plan"]["id"] == "starter" and shown["stripe"]["customer"] is True
    # The subscription's own snapshot, though created a second earlier, replaces the guess.
    start, end = now - 3600, now - 3600 + 30 * 86400
    sub = subscription("sub_9", ws, "price_starter", period=(start, end))
    assert post_event(billing_owner, event("customer.subscription.created", sub, created=now - 1)).json()["outcome"] == "applied"
    assert status(billing_owner)["period_end"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(end)))


def test_payment_failure_is_shown_until_a_newer_payment_succeeds(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    post_event(billing_owner, event("customer.subscription.created", subscription("sub_1", ws, "price_pro")))
    post_event(billing_owner, event("invoice.payment_failed", invoice(), created=now - 20))
    assert status(billing_owner)["stripe"]["payment_failed"] is True
    post_event(billing_owner, event("invoice.paid", invoice(), created=now - 10))
    assert status(billing_owner)["stripe"]["payment_failed"] is False
    # A failure that happened before the success but arrives after it changes nothing.
    post_event(billing_owner, event("invoice.payment_failed", invoice("in_0"), created=now - 30))
    assert status(billing_owner)["stripe"]["payment_failed"] is False


def test_unknown_event_types_and_workspaces_are_acknowledged(billing_owner: Api) -> None:
    unknown = post_event(billing_owner, event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}))
    assert unknown.status_code == 200 and unknown.json()["outcome"] == "ignored"
    stranger = subscription("sub_x", "no-such-workspace", "price_pro", customer="cus_unknown")
    response = post_event(billing_owner, event("customer.subscription.created", stranger))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_workspace"
    assert status(billing_owner)["plan"]["id"] == "free"


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"id": "evt_1", "type": "x"}'])
def test_a_signed_but_malformed_event_is_a_400(billing_owner: Api, payload: bytes) -> None:
    headers = {"Stripe-Signature": signature_header(payload.decode())}
    response = billing_owner.post(WEBHOOK, content=payload, headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_payload"


def test_without_a_webhook_secret_events_are_refused(owner: Api) -> None:
    evt = event("customer.subscription.created", subscription("sub_1", owner.ws, "price_pro"))
    response = post_event(owner, evt)
    assert response.status_code == 503 and response.json()["error"]["code"] == "billing_disabled"


def test_a_workspace_with_a_live_subscription_cannot_be_deleted(billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    post_event(billing_owner, event("customer.subscription.created", subscription("sub_1", ws, "price_pro"),
                                    created=now - 10))
    response = billing_owner.delete(f"/api/v1/workspaces/{ws}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "subscription_active"
    assert billing_owner.ok("GET", f"/api/v1/workspaces/{ws}")["name"] == "Acme"
    post_event(billing_owner, event("customer.subscription.deleted",
                                    subscription("sub_1", ws, "price_pro", status="canceled"), created=now))
    billing_owner.ok("DELETE", f"/api/v1/workspaces/{ws}", 204)
