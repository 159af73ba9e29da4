"""What a widget visitor can reach: a published bot's own sessions, nothing else.

Widget routes are public (see tests/isolation/scenarios_widget.py), so these scenarios stand
in for the harness: unpublished or deleted bots are 404 on every route, and one workspace's
bot id never opens another workspace's conversations, even with that visitor's session id.
"""

from __future__ import annotations

import pytest

from tests.support import Api
from tests.widget_support import SESSION, from_page, make_bot, sse_events, widget_chat

ROUTES = [
    ("GET", "config", {}),
    ("POST", "chat", {"json": {"session_id": SESSION, "message": "hello"}}),
    ("GET", "history", {"params": {"session_id": SESSION}}),
    ("POST", "feedback", {"json": {"session_id": SESSION, "message_id": "x", "rating": 1}}),
    ("OPTIONS", "chat", {}),
    ("POST", "handoff", {"json": {"session_id": SESSION}}),
    ("GET", "events", {"params": {"session_id": SESSION}}),
]


@pytest.fixture
def two_workspaces(server_factory, fake_llm):
    live = server_factory(open_signup=True, provider_allow_private=True)  # the fake LLM is on 127.0.0.1
    a, b = Api(live.url), Api(live.url)
    a.setup_owner("a@example.com", "Workspace A")
    b.signup("b@example.com", "Workspace B")
    yield live, a, b, make_bot(a, fake_llm, name="A bot"), make_bot(b, fake_llm, name="B bot")
    a.close()
    b.close()


@pytest.mark.parametrize("state", ["unpublished", "deleted"])
def test_every_widget_route_is_404_for_a_bot_that_is_not_live(owner, fake_llm, state) -> None:
    bot = make_bot(owner, fake_llm)
    assert widget_chat(owner, bot["id"], "hello before").status_code == 200
    if state == "unpublished":
        owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"published": False})
    else:
        owner.ok("DELETE", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")
    for method, action, kwargs in ROUTES:
        response = owner.request(method, f"/api/v1/widget/{bot['id']}/{action}", headers=from_page(), **kwargs)
        assert response.status_code == 404, f"{method} {action}: {response.status_code}"
        assert "hello before" not in response.text


def test_a_bot_id_of_workspace_a_never_opens_workspace_b_conversations(two_workspaces) -> None:
    live, a, b, bot_a, bot_b = two_workspaces
    visitor = Api(live.url)
    done = sse_events(widget_chat(visitor, bot_b["id"], "B's private question"))[-1]
    # Same visitor session id, but through A's bot: nothing of B's conversation is there.
    through_a = visitor.get(f"/api/v1/widget/{bot_a['id']}/history", params={"session_id": SESSION},
                            headers=from_page())
    assert through_a.status_code == 200 and through_a.json()["messages"] == []
    assert through_a.json()["status"] == "bot" and through_a.json()["last_event_id"] == 0
    feedback = visitor.post(f"/api/v1/widget/{bot_a['id']}/feedback", headers=from_page(),
                            json={"session_id": SESSION, "message_id": done["message_id"], "rating": -1})
    assert feedback.status_code == 404
    # A's bot answers in A's workspace: B's history does not leak into its prompt either.
    widget_chat(visitor, bot_a["id"], "A question [[echo]]")
    own = visitor.get(f"/api/v1/widget/{bot_b['id']}/history", params={"session_id": SESSION}, headers=from_page())
    assert [m["content"] for m in own.json()["messages"]][0] == "B's private question"
    assert own.json()["messages"][1]["feedback"] is None
    a_conversations = a.ok("GET", f"/api/v1/workspaces/{a.ws}/conversations")
    assert "B's private question" not in str(a_conversations)
    a_history = visitor.get(f"/api/v1/widget/{bot_a['id']}/history", params={"session_id": SESSION},
                            headers=from_page()).json()["messages"]
    assert "B's private question" not in str(a_history)
    visitor.close()


def test_the_config_shows_nothing_of_the_workspace(two_workspaces) -> None:
    live, a, b, bot_a, bot_b = two_workspaces
    config = b.get(f"/api/v1/widget/{bot_a['id']}/config", headers=from_page())
    assert config.status_code == 200
    assert a.ws not in config.text and "secret system prompt" not in config.text
