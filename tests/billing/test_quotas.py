"""Quotas: messages per period, limits on members and bots, plans set by hand, the 80 % warning."""

from __future__ import annotations

import calendar
import time

import anyio
import pytest

from modelpilot.billing import service
from modelpilot.cli import main
from modelpilot.core.database import connect_sync_for, open_database
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import iso_from_epoch, new_id
from tests.billing.stripe_events import event, post_event, subscription
from tests.support import PASSWORD, Api, database_args, LiveServer


def add_usage(live: LiveServer, ws: str, count: int, at: float | None = None) -> None:
    """Answered messages as the chat domain records them: one usage event each."""
    created = iso_from_epoch(time.time() if at is None else at)
    conn = connect_sync_for(live.settings)
    try:
        conn.executemany("INSERT INTO usage_events (id, workspace_id, channel, created_at) VALUES (?, ?, 'widget', ?)",
                         [(new_id(), ws, created) for _ in range(count)])
    finally:
        conn.close()


def call(live: LiveServer, check, *args):
    """Run a billing service function as another domain would, on the server's database."""
    async def run():
        db = open_database(live.settings, readers=1)
        await db.open()
        try:
            return await check(db, live.settings, *args)
        finally:
            await db.close()

    return anyio.run(run)


async def admit_one(db, settings, ws: str) -> None:
    """What chat does before calling a model: hold one message of the quota (402 when none is
    left); the hold is given back at once, as a turn that recorded nothing would."""
    hold = await service.reserve_message(db, settings, ws)
    await service.release_message(db, ws, hold)


def set_plan(live: LiveServer, workspace: str, plan: str) -> int:
    return main(["set-plan", workspace, plan, "--data-dir", str(live.settings.data_dir), *database_args(live.settings)])


def billing(client: Api) -> dict:
    return client.ok("GET", f"/api/v1/workspaces/{client.ws}/billing")


def test_message_quota_warns_at_80_percent_and_refuses_at_100(billing_server: LiveServer, billing_owner: Api) -> None:
    ws = billing_owner.ws
    add_usage(billing_server, ws, 79)
    shown = billing(billing_owner)
    assert (shown["plan"]["id"], shown["quota"], shown["used"], shown["warning"]) == ("free", 100, 79, False)
    add_usage(billing_server, ws, 1)
    assert billing(billing_owner)["warning"] is True
    add_usage(billing_server, ws, 19)
    call(billing_server, admit_one, ws)  # 99 of 100: still allowed
    add_usage(billing_server, ws, 1)
    with pytest.raises(ApiError) as refused:
        call(billing_server, admit_one, ws)
    assert refused.value.status == 402 and refused.value.code == "quota_exceeded"
    assert "message limit" in refused.value.message and refused.value.details["used"] == 100
    assert billing(billing_owner)["over_quota"] is True


def test_usage_counts_only_this_period_and_this_workspace(billing_server: LiveServer, billing_owner: Api) -> None:
    other = Api(billing_server.url)
    other_ws = other.ok("POST", "/api/v1/workspaces", json={"name": "Other"}, cookies=billing_owner.cookies)["id"]
    other.close()
    period_start = billing(billing_owner)["period_start"]
    last_month = calendar.timegm(time.strptime(period_start[:19], "%Y-%m-%dT%H:%M:%S")) - 3600
    add_usage(billing_server, billing_owner.ws, 500, at=last_month)
    add_usage(billing_server, other_ws, 500)
    add_usage(billing_server, billing_owner.ws, 3)
    shown = billing(billing_owner)
    assert shown["used"] == 3 and period_start.endswith("-01T00:00:00.000Z")
    call(billing_server, admit_one, billing_owner.ws)


def test_a_subscription_period_replaces_the_calendar_month(billing_server: LiveServer, billing_owner: Api) -> None:
    ws, now = billing_owner.ws, int(time.time())
    sub = subscription("sub_1", ws, "price_starter", period=(now - 3600, now + 29 * 86400))
    post_event(billing_owner, event("customer.subscription.created", sub))
    add_usage(billing_server, ws, 7, at=now - 7200)  # before the period began
    add_usage(billing_server, ws, 2)
    shown = billing(billing_owner)
    assert shown["plan"]["id"] == "starter" and shown["used"] == 2
    assert shown["period_start"] == iso_from_epoch(now - 3600)
    assert shown["period_end"] == iso_from_epoch(now + 29 * 86400)


def test_without_stripe_there_are_no_limits_until_a_plan_is_set_by_hand(server: LiveServer, owner: Api) -> None:
    ws = owner.ws
    add_usage(server, ws, 150)
    for n in range(3):
        owner.ok("POST", f"/api/v1/workspaces/{ws}/invitations", json={"email": f"p{n}@example.com", "role": "viewer"})
    call(server, admit_one, ws)
    assert billing(owner)["plan"] is None
    assert set_plan(server, "Acme", "free") == 0
    shown = billing(owner)
    assert shown["enabled"] is False and shown["plan"]["id"] == "free" and shown["used"] == 150
    with pytest.raises(ApiError) as refused:
        call(server, admit_one, ws)
    assert refused.value.status == 402
    response = owner.post(f"/api/v1/workspaces/{ws}/invitations", json={"email": "more@example.com", "role": "viewer"})
    assert response.status_code == 402 and response.json()["error"]["code"] == "plan_limit_reached"
    assert response.json()["error"]["details"] == {"plan": "free", "resource": "members", "limit": 2}
    assert set_plan(server, ws, "none") == 0
    assert billing(owner)["plan"] is None


@pytest.mark.parametrize("workspace, plan, message", [
    ("No such workspace", "free", "No workspace"),
    ("Acme", "platinum", "unknown plan"),
])
def test_set_plan_refuses_what_does_not_exist(server: LiveServer, owner: Api, capsys, workspace, plan, message) -> None:
    assert set_plan(server, workspace, plan) == 1
    assert message in capsys.readouterr().err
    assert billing(owner)["plan"] is None


def test_accepting_an_invitation_past_the_member_limit_is_refused(server: LiveServer, owner: Api) -> None:
    ws = owner.ws
    set_plan(server, ws, "starter")
    tokens = []
    for n in range(2):
        invitation = owner.ok("POST", f"/api/v1/workspaces/{ws}/invitations",
                              json={"email": f"m{n}@example.com", "role": "editor"})
        tokens.append(invitation["accept_url"].rsplit("/", 1)[1])
    set_plan(server, ws, "free")  # 2 seats: the owner and one more
    first, second = Api(server.url), Api(server.url)
    first.ok("POST", f"/api/v1/invitations/{tokens[0]}/accept",
             json={"email": "m0@example.com", "password": PASSWORD, "name": "m0"})
    response = second.post(f"/api/v1/invitations/{tokens[1]}/accept",
                           json={"email": "m1@example.com", "password": PASSWORD, "name": "m1"})
    assert response.status_code == 402 and response.json()["error"]["code"] == "plan_limit_reached"
    members = owner.ok("GET", f"/api/v1/workspaces/{ws}/members")
    assert len(members) == 2
    # Nothing was half-done: no account was created, and the invitation still works after an upgrade.
    second.ok("POST", "/api/v1/auth/login", 401, json={"email": "m1@example.com", "password": PASSWORD})
    set_plan(server, ws, "starter")
    second.ok("POST", f"/api/v1/invitations/{tokens[1]}/accept", 201,
              json={"email": "m1@example.com", "password": PASSWORD, "name": "m1"})
    first.close()
    second.close()
