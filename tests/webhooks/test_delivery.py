"""Deliveries reach a real receiver, verified by the official standardwebhooks package: the test
event, retries after a failing answer, a restart between attempts, SSRF refusal, auto-disable."""

from __future__ import annotations

import time

from tests.support import Api, start_server
from tests.webhooks.receiver import Receiver


def _hook(admin: Api, receiver: Receiver, events=("document.indexed",), url: str | None = None) -> dict:
    created = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201,
                       json={"url": url or receiver.url, "events": list(events), "description": "CRM"})
    receiver.secret = created["secret"]
    return created


def _deliveries(admin: Api, hook_id: str) -> list[dict]:
    return admin.ok("GET", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook_id}/deliveries")["items"]


def _wait_delivery(admin: Api, hook_id: str, predicate, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = _deliveries(admin, hook_id)
        if items and predicate(items[0]):
            return items[0]
        time.sleep(0.1)
    raise AssertionError(f"delivery never matched: {items}")


def test_test_event_arrives_signed_and_is_logged(hook_server, receiver):
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    sent = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    [delivery] = receiver.wait_for(1)
    assert delivery["payload"]["type"] == "webhook.test"
    assert delivery["payload"]["data"]["endpoint_id"] == hook["id"]
    assert delivery["id"].startswith("msg_")
    logged = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    assert logged["id"] == sent["delivery_id"] and logged["message_id"] == delivery["id"]
    assert logged["response_code"] == 200 and '"received": true' in logged["response_excerpt"]
    assert len(logged["attempt_log"]) == 1 and logged["attempt_log"][0]["response_code"] == 200
    assert logged["next_attempt_at"] is None
    admin.close()


def test_failed_answers_are_retried_with_the_same_message_id(hook_server, receiver):
    receiver.answers = [500, 503]
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    [delivery] = receiver.wait_for(1)
    assert receiver.hits == 3 and not receiver.rejected
    logged = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    codes = [a["response_code"] for a in logged["attempt_log"]]
    assert codes == [500, 503, 200]
    times = [a["attempted_at"] for a in logged["attempt_log"]]
    assert times == sorted(times) and len(set(times)) == 3
    assert logged["message_id"] == delivery["id"] and logged["attempts"] == 3
    admin.close()


def test_a_delivery_given_up_after_the_schedule_and_redelivered(hook_server, receiver):
    receiver.answers = [500] * 4
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    failed = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "failed")
    assert [a["response_code"] for a in failed["attempt_log"]] == [500, 500, 500, 500]  # first try + 3 retries
    assert receiver.verified == []
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver", 202)
    [delivery] = receiver.wait_for(1)
    assert delivery["id"] == failed["message_id"]
    done = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    assert len(done["attempt_log"]) == 5
    admin.close()


def test_a_restart_between_attempts_loses_nothing(server_factory, receiver, tmp_path):
    receiver.answers = [500]
    # A retry far in the future: the delivery is still pending when the server stops.
    live = server_factory(outbound_allow_private=True, webhook_retry_seconds=(3.0,))
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    pending = _wait_delivery(admin, hook["id"], lambda d: d["attempts"] == 1)
    assert pending["status"] == "pending" and pending["next_attempt_at"]
    admin.close()
    live.stop()
    assert receiver.verified == []
    again = start_server(live.settings)  # same data dir (or Postgres database), same port
    try:
        [delivery] = receiver.wait_for(1)
        assert delivery["id"] == pending["message_id"]
        admin = Api(again.url)
        admin.login("owner@example.com")
        done = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
        assert [a["response_code"] for a in done["attempt_log"]] == [500, 200]
        admin.close()
    finally:
        again.stop()


def test_private_addresses_are_refused_without_the_setting(server_factory, receiver):
    live = server_factory(webhook_retry_seconds=(30.0,))
    admin = Api(live.url)
    admin.setup_owner()
    literal = admin.post(f"/api/v1/workspaces/{admin.ws}/webhooks",
                         json={"url": receiver.url, "events": ["document.indexed"]})
    assert literal.status_code == 400 and literal.json()["error"]["details"][0]["field"] == "url"
    assert "MODELPILOT_OUTBOUND_ALLOW_PRIVATE" in literal.json()["error"]["message"]
    # A name that resolves to loopback passes the form and is refused when connecting.
    hook = _hook(admin, receiver, url=receiver.localhost_url())
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    logged = _wait_delivery(admin, hook["id"], lambda d: d["attempts"] == 1)
    assert logged["response_code"] is None and "Refused to connect" in logged["last_error"]
    assert "MODELPILOT_OUTBOUND_ALLOW_PRIVATE" in logged["last_error"]
    assert logged["status"] == "pending" and receiver.hits == 0
    admin.close()


def test_an_endpoint_failing_for_days_is_disabled_with_a_notice(hook_server, receiver):
    receiver.answers = [500] * 10
    live = hook_server(webhook_disable_after_seconds=0.5, webhook_retry_seconds=(0.6, 0.6, 0.6))
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    deadline, shown = time.monotonic() + 30, hook
    while time.monotonic() < deadline and shown["enabled"]:
        time.sleep(0.2)
        shown = admin.ok("GET", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}")
    assert shown["enabled"] is False and "Disabled automatically" in shown["disabled_reason"]
    assert "HTTP 500" in shown["disabled_reason"] and shown["disabled_at"]
    again = admin.ok("PATCH", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}", json={"enabled": True})
    assert again["enabled"] and again["disabled_reason"] is None and again["failing_since"] is None
    admin.close()


def test_rotate_key_reseals_signing_secrets(server_factory, receiver, capsys):
    from modelpilot.cli import main
    from modelpilot.core.crypto import load_key_ring
    from tests.support import database_args

    live = server_factory(outbound_allow_private=True)
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.close()
    live.stop()
    data_dir = live.settings.data_dir
    old_id = load_key_ring("", data_dir).current_id
    assert main(["rotate-key", "--data-dir", str(data_dir), *database_args(live.settings)]) == 0
    assert "re-sealed 1 provider key(s) and webhook secret(s)" in capsys.readouterr().out
    assert load_key_ring("", data_dir).current_id != old_id
    assert len((data_dir / "secret.key").read_text().split()) == 1  # the old key is gone
    again = start_server(live.settings)
    try:
        admin = Api(again.url)
        admin.login("owner@example.com")
        admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
        [delivery] = receiver.wait_for(1)  # still signed with the secret shown at creation
        assert delivery["payload"]["type"] == "webhook.test"
        admin.close()
    finally:
        again.stop()


def test_the_log_forgets_settled_deliveries_after_30_days(hook_server, receiver):
    import asyncio

    from modelpilot.core.database import open_database
    from modelpilot.webhooks.delivery import prune_delivery_log

    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    for _ in range(2):
        admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    receiver.wait_for(2)
    _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    old, recent = sorted(_deliveries(admin, hook["id"]), key=lambda d: d["created_at"])

    async def age_and_prune() -> int:  # a second connection to the same database, as another node's
        db = open_database(live.settings)
        await db.open()
        try:
            await db.run_write(lambda conn: conn.execute(
                "UPDATE webhook_deliveries SET created_at = ? WHERE id = ?", ("2020-01-01T00:00:00.000Z", old["id"])))
            return await prune_delivery_log(db)
        finally:
            await db.close()

    assert asyncio.run(age_and_prune()) == 1
    assert [d["id"] for d in _deliveries(admin, hook["id"])] == [recent["id"]]
    admin.close()


def test_a_receiver_slower_than_the_timeout_is_retried(hook_server, receiver):
    from tests.webhooks.receiver import SLOW

    receiver.answers = [SLOW]
    live = hook_server(webhook_timeout_seconds=1)
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    done = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    first, *middle, last = done["attempt_log"]
    assert first["response_code"] is None and first["error"] == "no answer within 1 s"
    # A loaded machine may make a prompt answer miss the timeout too; such a try is logged the same way.
    assert all(a["response_code"] is None and a["error"] == "no answer within 1 s" for a in middle)
    assert last["response_code"] == 200 and last["error"] is None
    # The slow answer never counted; every try the receiver accepted is the same message.
    assert receiver.verified and len({v["id"] for v in receiver.verified}) == 1
    admin.close()


def test_the_response_excerpt_is_at_most_a_kilobyte_and_survives_odd_bytes(hook_server, receiver):
    receiver.reply_body = b"\x00\xff" + b"x" * 5000
    live = hook_server()
    admin = Api(live.url)
    admin.setup_owner()
    hook = _hook(admin, receiver)
    admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks/{hook['id']}/test", 202)
    done = _wait_delivery(admin, hook["id"], lambda d: d["status"] == "succeeded")
    excerpt = done["response_excerpt"]
    assert len(excerpt.encode("utf-8")) <= 1024 + 4 and excerpt.startswith("\ufffd\ufffd") and excerpt.endswith("x")
    admin.close()
