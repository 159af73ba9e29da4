"""Resolution rate (issue 21 part 6): each answer stores why it may be weak, a conversation is
resolved by core/answer_quality.py's rule, and /analytics/usage and the conversation log's
`resolved` / `unanswered` filters agree on which conversations those are."""

from __future__ import annotations

import pytest

from tests.widget_support import from_page


def session(name: str) -> str:
    return f"quality-{name}-session-0000"


@pytest.fixture
def six_conversations(desk, knows_opening_hours) -> dict[str, dict]:
    """One conversation per way an answer can be weak, and one resolved conversation."""
    said = {}
    said["resolved"] = desk.visitor_says("What are your opening hours?", session("a"))[-1]
    said["no_source"] = desk.visitor_says("Do you sell zebras?", session("b"))[-1]
    said["thumbs_down"] = desk.visitor_says("What are your hours on weekdays?", session("c"))[-1]
    said["handoff"] = desk.visitor_says("What are the opening hours today?", session("d"))[-1]
    desk.visitor_says("When are your opening hours?", session("e"))
    said["repeat"] = desk.visitor_says("when are the opening hours, please?", session("e"))[-1]
    said["fallback"] = desk.visitor_says("[[fail500]] opening hours?", session("f"))
    rate(desk, session("c"), said["thumbs_down"]["message_id"], -1)
    desk.ask_for_person(session("d"))
    return said


def rate(desk, session_id: str, message_id: str, rating: int) -> None:
    response = desk.visitor.post(desk.widget("feedback"), headers=from_page(),
                                 json={"session_id": session_id, "message_id": message_id, "rating": rating})
    assert response.status_code == 204, response.text


def log(desk, **params) -> set[str]:
    items = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/conversations", params=params)["items"]
    return {item["id"] for item in items}


def conversation_ids(desk) -> dict[str, str]:
    rows = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/conversations")["items"]
    by_session = {row["session_id"]: row["id"] for row in rows}
    names = {"a": "resolved", "b": "no_source", "c": "thumbs_down", "d": "handoff", "e": "repeat", "f": "fallback"}
    return {name: by_session[session(key)] for key, name in names.items()}


def test_each_answer_records_why_it_may_be_weak(desk, six_conversations):
    ids = conversation_ids(desk)
    reasons = {}
    for name, conversation_id in ids.items():
        detail = desk.owner.ok("GET", desk.conv(conversation_id))
        reasons[name] = [m["reasons"] for m in detail["messages"] if m["role"] == "assistant"]
        assert all("reasons" not in m for m in detail["messages"] if m["role"] != "assistant")
    assert reasons == {"resolved": [[]], "no_source": [["no_source"]], "thumbs_down": [["thumbs_down"]],
                       "handoff": [["handoff"]], "repeat": [[], ["repeat"]], "fallback": [["fallback"]]}


def test_resolution_figures_and_the_conversations_behind_them_agree(desk, six_conversations):
    ids = conversation_ids(desk)
    weak = set(ids.values()) - {ids["resolved"]}
    for group_by in ("day", "chatbot", "model"):
        report = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/analytics/usage", params={"group_by": group_by})
        totals = report["totals"]
        assert (totals["conversations"], totals["resolved"], totals["unanswered"]) == (6, 1, 5), group_by
        assert totals["resolution_rate"] == round(1 / 6, 4) and totals["handoffs"] == 1
        assert sum(g["resolved"] for g in report["groups"]) == 1
        assert sum(g["unanswered"] for g in report["groups"]) == 5
    [bot_group] = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/analytics/usage",
                                params={"group_by": "chatbot"})["groups"]
    assert (bot_group["resolved"], bot_group["resolution_rate"], bot_group["handoffs"]) == (1, round(1 / 6, 4), 1)
    assert log(desk, resolved="true") == {ids["resolved"]}
    assert log(desk, resolved="false") == weak
    assert log(desk, unanswered="true") == weak
    assert log(desk, resolved="true", chatbot_id=desk.bot["id"]) == {ids["resolved"]}
    assert log(desk, resolved="true", chatbot_id="another-bot") == set()
    rows = {row["id"]: row for row in desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/conversations")["items"]}
    assert rows[ids["repeat"]]["unanswered_count"] == 1 and rows[ids["resolved"]]["unanswered_count"] == 0


def test_a_changed_rating_changes_the_figures_at_once(desk, six_conversations):
    ids = conversation_ids(desk)
    rate(desk, session("c"), six_conversations["thumbs_down"]["message_id"], 1)
    totals = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/analytics/usage")["totals"]
    assert (totals["resolved"], totals["unanswered"]) == (2, 4)
    assert log(desk, resolved="true") == {ids["resolved"], ids["thumbs_down"]}


def test_an_empty_workspace_has_no_rate_and_a_bad_filter_is_a_400(desk):
    totals = desk.owner.ok("GET", f"/api/v1/workspaces/{desk.ws}/analytics/usage")["totals"]
    assert (totals["resolved"], totals["unanswered"], totals["resolution_rate"]) == (0, 0, None)
    response = desk.owner.get(f"/api/v1/workspaces/{desk.ws}/conversations", params={"resolved": "maybe"})
    assert response.status_code == 400 and "resolved" in response.text
