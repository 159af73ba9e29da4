"""Human handoff across a fleet: a visitor's event stream on node B receives what an operator
sends on node A (the log is shared in Postgres; the poke crosses nodes by LISTEN/NOTIFY)."""

from __future__ import annotations

import pytest

from tests.fleet.test_two_nodes import Fleet
from tests.inbox.support import EventReader
from tests.widget_support import SESSION, from_page, make_bot


@pytest.fixture
def pair(tmp_path):
    """Nodes A and B (quick heartbeats, so the test's stream readers close promptly)."""
    fleet = Fleet(tmp_path)
    a = fleet.start("node-a", events_heartbeat_seconds=0.5, provider_allow_private=True)
    b = fleet.start("node-b", events_heartbeat_seconds=0.5, provider_allow_private=True)
    on_a, on_b = fleet.client(a), fleet.client(b)
    on_a.setup_owner()
    on_b.login("owner@example.com")
    yield fleet, on_a, on_b
    fleet.close()


def test_an_operator_message_on_node_a_reaches_a_visitor_stream_on_node_b(pair, fake_llm):
    fleet, on_a, on_b = pair
    bot = make_bot(on_a, fake_llm, handoff={"enabled": True})
    asked = on_b.post(f"/api/v1/widget/{bot['id']}/handoff", json={"session_id": SESSION}, headers=from_page())
    assert asked.json() == {"status": "waiting"}
    inbox_on_a = EventReader(fleet.nodes[0].url, f"/api/v1/workspaces/{on_a.ws}/events", cookies=on_a.cookies)
    visitor_on_b = EventReader(fleet.nodes[1].url, f"/api/v1/widget/{bot['id']}/events",
                               params={"session_id": SESSION}, headers=from_page())
    try:
        conversation = on_a.ok("GET", f"/api/v1/workspaces/{on_a.ws}/inbox")["items"][0]["id"]
        on_a.ok("POST", f"/api/v1/workspaces/{on_a.ws}/conversations/{conversation}/messages",
                json={"text": "Sent on node A"})
        frames = [visitor_on_b.next(15)["data"] for _ in range(3)]
        assert frames[0] == {"status": "human", "assignee_name": "Owner"}
        assert frames[2]["message"]["content"] == "Sent on node A"
        assert frames[2]["message"]["author_name"] == "Owner"
        # And the other way: the visitor writes on node B, the inbox on node A hears it.
        said = on_b.post(f"/api/v1/widget/{bot['id']}/chat", json={"session_id": SESSION, "message": "Thanks!"},
                         headers=from_page())
        assert said.status_code == 200
        seen = [inbox_on_a.next(15)["data"] for _ in range(4)]
        assert seen[-1]["type"] == "conversation.message" and seen[-1]["message"]["content"] == "Thanks!"
    finally:
        inbox_on_a.close()
        visitor_on_b.close()
