"""Two nodes on one Postgres database share the delivery queue: every delivery is sent once.

Always on Postgres (the fleet fixture of tests/fleet), whatever MP_TEST_BACKEND says.
"""

from __future__ import annotations

import time

from tests.fleet.test_two_nodes import fleet  # noqa: F401 (the fixture)
from tests.support import Api
from tests.webhooks.conftest import FAST_RETRIES

EVENTS = 40


def test_each_delivery_is_sent_once_across_two_nodes(fleet, receiver):  # noqa: F811
    options = {"outbound_allow_private": True, "webhook_retry_seconds": FAST_RETRIES}
    a, b = fleet.start("node-a", **options), fleet.start("node-b", **options)
    on_a, on_b = fleet.client(a), fleet.client(b)
    on_a.setup_owner()
    on_b.login("owner@example.com")
    hook = on_a.ok("POST", f"/api/v1/workspaces/{on_a.ws}/webhooks", 201,
                   json={"url": receiver.url, "events": ["document.indexed"]})
    receiver.secret = hook["secret"]
    for i in range(EVENTS):  # queued through both nodes; either node's worker may claim any of them
        client: Api = on_a if i % 2 == 0 else on_b
        client.ok("POST", f"/api/v1/workspaces/{client.ws}/webhooks/{hook['id']}/test", 202)
    verified = receiver.wait_for(EVENTS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [(pending,)] = fleet.rows("SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'succeeded'")
        [(jobs,)] = fleet.rows("SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver'")
        if pending == 0 and jobs == 0:
            break
        time.sleep(0.1)
    assert pending == 0 and jobs == 0
    ids = [delivery["id"] for delivery in verified]
    assert len(ids) == EVENTS == len(set(ids)) == receiver.hits
    [(attempts,)] = fleet.rows("SELECT COUNT(*) FROM webhook_attempts")
    assert attempts == EVENTS
