"""The chat's tool loop end to end: the fake model calls tools, the server runs them, the model answers."""

from __future__ import annotations

import json
import logging

import pytest

from modelpilot.core.database import connect_sync_for
from modelpilot.core.db import transaction_sync
from tests.actions.conftest import (
    GOOD_KEY, SECRET, actions_path, add_action, asked, chat, conversation, text_of, tool_events, use_tools,
)
from tests.support import Api
from tests.fakes.llm import TOOL_ANSWER, TOOL_PREAMBLE


@pytest.fixture(params=["direct", "litellm"])
def llm_path(request) -> dict:
    return {"llm_direct_openai": request.param == "direct"}


def _requests_since(fake_llm, start: int) -> list[dict]:
    return fake_llm.requests[start:]


def test_tool_call_runs_and_the_model_answers_from_its_delimited_result(server_factory, llm_path, fake_llm,
                                                                         action_service):
    live = server_factory(outbound_allow_private=True, **llm_path)
    owner = Api(live.url)
    owner.setup_owner()
    owner.add_provider(owner.ws, "openai", GOOD_KEY, fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    action = add_action(owner, bot, action_service.url, label="Checking your order…")
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    llm_start, service_start = len(fake_llm.requests), len(action_service.requests)

    events = chat(owner, bot, asked("Where is my order?", order_id="a/b c"))

    assert tool_events(events) == [("lookup_order", "running"), ("lookup_order", "done")]
    running = next(e["tool"] for e in events if "tool" in e)
    assert running["label"] == "Checking your order…" and running["call_id"]
    assert text_of(events) == TOOL_PREAMBLE + TOOL_ANSWER and events[-1]["done"] is True
    assert [r["path"] for r in action_service.requests[service_start:]] == ["/orders/a%2Fb%20c"]
    assert action_service.requests[service_start]["headers"]["authorization"] == SECRET
    first, second = _requests_since(fake_llm, llm_start)
    assert [t["function"]["name"] for t in first["tools"]] == ["lookup_order"]
    assert first["tools"][0]["function"]["parameters"]["required"] == ["order_id"]
    call = second["messages"][-2]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"order_id": "a/b c"}  # assembled from the pieces
    result = second["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    assert result["content"].startswith('<tool_result name="lookup_order" status="done">')
    assert result["content"].endswith("</tool_result>") and "shipped" in result["content"]
    assert any("untrusted" in m["content"] for m in second["messages"] if m["role"] == "system")
    assert SECRET not in json.dumps(first) + json.dumps(second)

    logged = conversation(owner, events[-1]["conversation_id"])
    calls = logged["messages"][1]["tool_calls"]
    assert [(c["name"], c["type"], c["status"]) for c in calls] == [("lookup_order", "action", "done")]
    assert calls[0]["arguments"] == {"order_id": "a/b c"} and calls[0]["latency_ms"] is not None
    assert "shipped" in calls[0]["response_excerpt"] and calls[0]["call_id"] == running["call_id"]
    assert logged["messages"][1]["content"] == TOOL_PREAMBLE + TOOL_ANSWER
    assert SECRET not in json.dumps(logged)
    owner.close()


def test_two_calls_in_one_turn_both_run_in_order(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(action_service.requests)
    events = chat(owner, bot, "Two orders [[tool:lookup_order {\"order_id\": \"1\"}]]"
                              " [[tool:lookup_order {\"order_id\": \"2\"}]]")
    assert tool_events(events) == [("lookup_order", "running"), ("lookup_order", "done")] * 2
    assert [r["path"] for r in action_service.requests[start:]] == ["/orders/1", "/orders/2"]
    results = [m for m in fake_llm.requests[-1]["messages"] if m["role"] == "tool"]
    assert [r["tool_call_id"] for r in results] == ["call_fake_0", "call_fake_1"]
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"]
    assert [c["arguments"]["order_id"] for c in logged] == ["1", "2"]


def test_invalid_arguments_never_reach_the_service_and_the_model_is_told(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(action_service.requests)
    events = chat(owner, bot, asked("Where?", order_id=5, extra=True))
    assert tool_events(events) == [] and text_of(events) == TOOL_PREAMBLE + TOOL_ANSWER
    assert len(action_service.requests) == start
    told = fake_llm.requests[-1]["messages"][-1]
    assert told["role"] == "tool" and 'status="error"' in told["content"] and "do not fit" in told["content"]
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"]
    assert logged[0]["status"] == "error" and "order_id" in logged[0]["error"]


def test_timeout_is_a_tool_error_and_the_answer_goes_on(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/slow", timeout_s=1,
                        parameters={"type": "object", "properties": {}})
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    events = chat(owner, bot, asked("Slow one"))
    assert tool_events(events) == [("lookup_order", "running"), ("lookup_order", "error")]
    assert text_of(events).endswith(TOOL_ANSWER) and events[-1]["done"] is True
    assert "no answer within 1 s" in fake_llm.requests[-1]["messages"][-1]["content"]
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"][0]
    assert logged["status"] == "error" and logged["latency_ms"] < 3000


def test_oversize_response_is_capped(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/big", max_response_bytes=1024,
                        parameters={"type": "object", "properties": {}})
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    events = chat(owner, bot, asked("Big one"))
    assert tool_events(events)[-1] == ("lookup_order", "done")
    content = fake_llm.requests[-1]["messages"][-1]["content"]
    assert content.count("x") == 1024 and "cut at 1024 bytes" in content
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"][0]
    assert len(logged["response_excerpt"]) <= 1000


def test_verified_only_is_not_offered_to_an_anonymous_visitor_and_refused_if_asked(owner, bot, fake_llm,
                                                                                   action_service):
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/orders/{visitor.sub}",
                        verified_only=True, parameters={"type": "object", "properties": {}})
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}, {"type": "builtin", "name": "collect_lead"}])
    start, llm_start = len(action_service.requests), len(fake_llm.requests)
    events = chat(owner, bot, asked("My orders?"))
    offered = [t["function"]["name"] for t in fake_llm.requests[llm_start]["tools"]]
    assert offered == ["collect_lead"]
    assert len(action_service.requests) == start
    assert "needs a verified visitor" in fake_llm.requests[-1]["messages"][-1]["content"]
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"][0]
    assert logged["status"] == "refused" and logged["error"] == "needs a verified visitor"


def test_confirm_flow_approve_runs_it_and_decline_does_not(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url, confirm=True, label="Cancelling your order…")
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(action_service.requests)
    events = chat(owner, bot, asked("Cancel order 7", order_id="7"), session_id="confirm-session-1")
    asking = [e["tool"] for e in events if "tool" in e]
    assert [t["status"] for t in asking] == ["needs_confirmation"]
    assert asking[0]["arguments"] == {"order_id": "7"} and asking[0]["label"] == "Cancelling your order…"
    done = events[-1]
    assert done["done"] is True and done["needs_confirmation"]["call_id"] == asking[0]["call_id"]
    assert text_of(events) == TOOL_PREAMBLE and len(action_service.requests) == start
    pending = conversation(owner, done["conversation_id"])["messages"][1]["tool_calls"][0]
    assert pending["status"] == "pending"

    events = chat(owner, bot, session_id="confirm-session-1",
                  confirm={"call_id": asking[0]["call_id"], "approve": True})
    assert tool_events(events) == [("lookup_order", "running"), ("lookup_order", "done")]
    assert text_of(events) == TOOL_ANSWER and events[-1]["done"] is True
    assert [r["path"] for r in action_service.requests[start:]] == ["/orders/7"]
    logged = conversation(owner, done["conversation_id"])
    assert [m["role"] for m in logged["messages"]] == ["user", "assistant", "assistant"]
    assert logged["messages"][1]["tool_calls"][0]["status"] == "done"
    again = owner.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/chat",
                       json={"session_id": "confirm-session-1", "confirm": {"call_id": asking[0]["call_id"],
                                                                            "approve": True}})
    assert again.status_code == 409 and again.json()["error"]["code"] == "confirmation_expired"

    events = chat(owner, bot, asked("Cancel order 8", order_id="8"), session_id="confirm-session-2")
    call_id = events[-1]["needs_confirmation"]["call_id"]
    events = chat(owner, bot, session_id="confirm-session-2", confirm={"call_id": call_id, "approve": False})
    assert [e["tool"].get("declined") for e in events if "tool" in e] == [True]
    assert "declined" in fake_llm.requests[-1]["messages"][-1]["content"]
    assert [r["path"] for r in action_service.requests[start:]] == ["/orders/7"]
    logged = conversation(owner, events[-1]["conversation_id"])
    assert logged["messages"][1]["tool_calls"][0]["status"] == "declined"


def test_an_expired_confirmation_is_refused(owner, bot, server, action_service):
    action = add_action(owner, bot, action_service.url, confirm=True)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    events = chat(owner, bot, asked("Cancel", order_id="9"), session_id="confirm-session-3")
    call_id = events[-1]["needs_confirmation"]["call_id"]
    conn = connect_sync_for(server.settings)
    try:
        with transaction_sync(conn):
            conn.execute("UPDATE tool_confirmations SET expires_at = '2000-01-01T00:00:00.000Z'")
    finally:
        conn.close()
    response = owner.post(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/chat",
                          json={"session_id": "confirm-session-3", "confirm": {"call_id": call_id, "approve": True}})
    assert response.status_code == 409 and response.json()["error"]["code"] == "confirmation_expired"


def test_max_rounds_are_honoured_then_the_model_answers_without_tools(owner, bot, fake_llm, action_service):
    action = add_action(owner, bot, action_service.url)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}], max_tool_rounds=2)
    start, llm_start = len(action_service.requests), len(fake_llm.requests)
    events = chat(owner, bot, 'Loop [[toolloop:lookup_order {"order_id": "1"}]]')
    assert len(action_service.requests) - start == 2
    sent = fake_llm.requests[llm_start:]
    assert [bool(r.get("tools")) for r in sent] == [True, True, False]
    assert text_of(events) == TOOL_PREAMBLE * 2 + TOOL_ANSWER and events[-1]["done"] is True


def test_per_tool_limit_per_conversation(server_factory, fake_llm, action_service):
    live = server_factory(outbound_allow_private=True, tool_calls_per_conversation=1)
    owner = Api(live.url)
    owner.setup_owner()
    owner.add_provider(owner.ws, "openai", GOOD_KEY, fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini")
    action = add_action(owner, bot, action_service.url)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}], max_tool_rounds=2)
    start = len(action_service.requests)
    events = chat(owner, bot, 'Loop [[toolloop:lookup_order {"order_id": "1"}]]')
    assert len(action_service.requests) - start == 1
    logged = conversation(owner, events[-1]["conversation_id"])["messages"][1]["tool_calls"]
    assert [c["status"] for c in logged] == ["done", "refused"] and "too often" in logged[1]["error"]
    owner.close()


def test_builtin_handoff_moves_the_conversation_to_waiting(owner, bot, fake_llm):
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"handoff": {"enabled": True}})
    use_tools(owner, bot, [{"type": "builtin", "name": "handoff"}])
    events = chat(owner, bot, "I want a person now [[tool:handoff]]")
    assert tool_events(events) == [("handoff", "running"), ("handoff", "done")]
    assert events[-1]["status"] == "waiting"
    assert conversation(owner, events[-1]["conversation_id"])["status"] == "waiting"


def test_handoff_is_not_offered_while_the_bots_handoff_is_off(owner, bot, fake_llm):
    use_tools(owner, bot, [{"type": "builtin", "name": "handoff"}, {"type": "builtin", "name": "collect_lead"}])
    start = len(fake_llm.requests)
    events = chat(owner, bot, "Contact me [[tool:collect_lead]]")
    assert [t["function"]["name"] for t in fake_llm.requests[start]["tools"]] == ["collect_lead"]
    assert events[-1]["lead_form"] is True and "status" not in events[-1]


def test_builtin_extractive_bot_answers_without_tools(owner, action_service, fake_llm):
    bot = owner.create_bot(owner.ws, model="builtin/extractive")
    action = add_action(owner, bot, action_service.url)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(action_service.requests)
    events = chat(owner, bot, asked("Where is my order?", order_id="1"))
    assert tool_events(events) == [] and events[-1]["done"] is True and text_of(events)
    assert len(action_service.requests) == start


def test_tools_analytics_count_calls_and_failures(owner, bot, action_service):
    good = add_action(owner, bot, action_service.url)
    bad = add_action(owner, bot, action_service.url, name="failing", url=action_service.url + "/fail",
                     parameters={"type": "object", "properties": {}})
    use_tools(owner, bot, [{"type": "action", "id": good["id"]}, {"type": "action", "id": bad["id"]}])
    chat(owner, bot, asked("One", order_id="1"))
    chat(owner, bot, "Two [[tool:failing]] [[tool:lookup_order {\"order_id\": \"2\"}]]")
    report = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/analytics/tools", params={"chatbot_id": bot["id"]})
    rows = {(r["type"], r["name"]): r for r in report["items"]}
    assert rows[("action", "lookup_order")]["calls"] == 2 and rows[("action", "lookup_order")]["failures"] == 0
    assert rows[("action", "failing")]["calls"] == 1 and rows[("action", "failing")]["failures"] == 1
    assert isinstance(rows[("action", "lookup_order")]["p50_latency_ms"], int)
    other = owner.create_bot(owner.ws, name="Other", model="gpt-4o-mini")
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/analytics/tools",
                    params={"chatbot_id": other["id"]})["items"] == []


def test_header_values_stay_out_of_prompt_log_and_api_even_when_echoed(owner, bot, fake_llm, action_service,
                                                                        caplog):
    caplog.set_level(logging.DEBUG)
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/echo-headers",
                        parameters={"type": "object", "properties": {}})
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(fake_llm.requests)
    events = chat(owner, bot, asked("Echo"))
    assert tool_events(events)[-1] == ("lookup_order", "done")
    prompts = json.dumps(fake_llm.requests[start:])
    assert "authorization" in prompts and SECRET not in prompts and "s3cr3t" not in prompts
    everything = json.dumps(conversation(owner, events[-1]["conversation_id"])) + owner.get(actions_path(owner, bot)).text
    everything += owner.get(f"/api/v1/workspaces/{owner.ws}/audit-log").text
    assert "s3cr3t" not in everything
    assert caplog.records  # the server's logs were captured (it runs in this process)
    assert "s3cr3t" not in caplog.text
