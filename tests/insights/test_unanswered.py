"""Unanswered questions (issue 21 part 2): the visitor questions whose answers were weak, grouped
by similarity with the local embedding model, largest groups first, each with its reasons and
examples that name the conversation and the answer."""

from __future__ import annotations

from tests.widget_support import from_page

ASKED = [  # (session, question): the three password questions are one question in other words
    ("pw-1", "How do I reset my password?"),
    ("pw-2", "How can I reset my password?"),
    ("pw-3", "I forgot my password, how do I reset it?"),
    ("ship-1", "Do you ship to Canada?"),
    ("ship-2", "Can you ship orders to Canada?"),
    ("life-1", "What is the meaning of life?"),
    ("hours-1", "What are your opening hours?"),  # answered from knowledge: not unanswered
]


def session(name: str) -> str:
    return f"insights-{name}-session-0000"


def unanswered(api, ws: str, **params) -> dict:
    return api.ok("GET", f"/api/v1/workspaces/{ws}/insights/unanswered", params=params)


def test_weak_answers_are_grouped_by_similarity_largest_first(desk, knows_opening_hours):
    answers = {name: desk.visitor_says(question, session(name))[-1] for name, question in ASKED}
    response = desk.visitor.post(desk.widget("feedback"), headers=from_page(), json={
        "session_id": session("ship-2"), "message_id": answers["ship-2"]["message_id"], "rating": -1})
    assert response.status_code == 204
    report = unanswered(desk.owner, desk.ws)
    groups = report["groups"]
    assert [g["count"] for g in groups] == [3, 2, 1]
    passwords, shipping, life = groups
    assert "password" in passwords["label"] and "Canada" in shipping["label"]
    assert life["label"] == "What is the meaning of life?"
    assert passwords["reasons"] == {"no_source": 3}
    assert shipping["reasons"] == {"no_source": 2, "thumbs_down": 1}
    assert {e["question"] for e in passwords["examples"]} == {q for n, q in ASKED if n.startswith("pw")}
    for name in ("pw-1", "pw-2", "pw-3"):
        example = next(e for e in passwords["examples"] if e["message_id"] == answers[name]["message_id"])
        assert example["conversation_id"] == answers[name]["conversation_id"]
        assert example["reasons"] == ["no_source"]
    assert all(g["chatbot_id"] == desk.bot["id"] and g["chatbot_name"] == "Helper" for g in groups)
    everything = {e["question"] for g in groups for e in g["examples"]}
    assert "What are your opening hours?" not in everything
    # Each example's conversation is one the log shows as unanswered.
    flagged = {c["id"] for c in desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/conversations",
                                               params={"unanswered": "true"})["items"]}
    assert {e["conversation_id"] for g in groups for e in g["examples"]} == flagged


def test_filters_roles_and_bad_input(desk, knows_opening_hours):
    desk.visitor_says("Do you ship to Canada?", session("a"))
    assert unanswered(desk.viewer, desk.ws)["groups"][0]["count"] == 1  # any member may read the log
    assert unanswered(desk.owner, desk.ws, chatbot_id=desk.bot["id"])["groups"][0]["count"] == 1
    assert unanswered(desk.owner, desk.ws, chatbot_id="another-bot")["groups"] == []
    assert unanswered(desk.owner, desk.ws, **{"from": "2000-01-01", "to": "2000-01-31"})["groups"] == []
    response = desk.owner.get(f"/api/v1/workspaces/{desk.ws}/insights/unanswered", params={"from": "soon"})
    assert response.status_code == 400 and "from" in response.text
