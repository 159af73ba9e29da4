"""Usage analytics: grouped sums that match the logged messages exactly."""

from __future__ import annotations

import pytest

from modelpilot.core.database import connect_sync_for


@pytest.fixture
def usage_log(owner, fake_llm, server) -> list[dict]:
    owner.add_provider(owner.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    paid = owner.create_bot(owner.ws, name="Paid", model="gpt-4o-mini")
    free = owner.create_bot(owner.ws, name="Free", model="builtin/extractive")
    owner.chat(owner.ws, paid["id"], "first", session_id="a")
    owner.chat(owner.ws, paid["id"], "second", session_id="a")
    owner.chat(owner.ws, paid["id"], "[[fail500]] third", session_id="b")
    owner.chat(owner.ws, free["id"], "fourth", session_id="c")
    conn = connect_sync_for(server.settings)
    try:
        conn.execute("UPDATE messages SET feedback = 1 WHERE role = 'assistant' AND model = 'builtin/extractive'")
        rows = [dict(r) for r in conn.execute(
            "SELECT m.*, b.name AS bot_name FROM messages m JOIN chatbots b ON b.id = m.chatbot_id"
            " WHERE role = 'assistant'")]
    finally:
        conn.close()
    return rows


def usage(owner, **params) -> dict:
    return owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/analytics/usage", params=params)


def test_sums_match_the_messages_for_every_grouping(owner, usage_log):
    for group_by in ("day", "model", "chatbot"):
        report = usage(owner, group_by=group_by)
        totals = report["totals"]
        assert totals["messages"] == len(usage_log) == 4
        assert totals["conversations"] == 3
        assert totals["tokens_in"] == sum(m["tokens_in"] for m in usage_log)
        assert totals["tokens_out"] == sum(m["tokens_out"] for m in usage_log)
        assert totals["cost"] == pytest.approx(sum(m["cost"] for m in usage_log))
        assert totals["feedback_up"] == 1 and totals["feedback_down"] == 0 and totals["errors"] == 1
        assert sum(g["messages"] for g in report["groups"]) == 4
        assert sum(g["cost"] for g in report["groups"]) == pytest.approx(totals["cost"])
    by_model = {g["key"]: g for g in usage(owner, group_by="model")["groups"]}
    assert by_model["gpt-4o-mini"]["messages"] == 3 and by_model["gpt-4o-mini"]["cost"] > 0
    assert by_model["builtin/extractive"]["cost"] == 0
    by_bot = {g["chatbot_name"]: g for g in usage(owner, group_by="chatbot")["groups"]}
    assert by_bot["Paid"]["conversations"] == 2 and by_bot["Free"]["messages"] == 1
    latencies = sorted(m["latency_total_ms"] for m in usage_log)
    assert usage(owner)["totals"]["latency_p95_ms"] == latencies[-1]
    assert usage(owner)["totals"]["latency_p50_ms"] == latencies[1]


def test_date_range_and_bad_parameters(owner, usage_log):
    assert usage(owner, **{"from": "2000-01-01", "to": "2000-01-31"})["totals"]["messages"] == 0
    day = usage_log[0]["created_at"][:10]
    assert usage(owner, **{"from": day, "to": day})["totals"]["messages"] == 4
    for params, field in [({"group_by": "week"}, "group_by"), ({"from": "soon"}, "from")]:
        response = owner.get(f"/api/v1/workspaces/{owner.ws}/analytics/usage", params=params)
        assert response.status_code == 400 and field in response.text
