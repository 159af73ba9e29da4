"""The widget's side of tools (confirm over the public API, what a visitor sees) and rotate-key."""

from __future__ import annotations

from modelpilot.cli import main
from modelpilot.core.database import connect_sync_for
from modelpilot.core.crypto import load_key_ring
from tests.actions.conftest import SECRET, actions_path, add_action, asked, use_tools
from tests.fakes.llm import TOOL_ANSWER
from tests.support import Api, database_args, make_settings, start_server
from tests.widget_support import HOST_PAGE_ORIGIN, SESSION, from_page, make_bot, sse_events


def test_widget_visitor_approves_an_action_over_the_public_api(owner, fake_llm, action_service):
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    action = add_action(owner, bot, action_service.url, confirm=True, label="Cancelling your order…")
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    start = len(action_service.requests)
    chat_url = f"/api/v1/widget/{bot['id']}/chat"
    events = sse_events(owner.post(chat_url, headers=from_page(),
                                   json={"session_id": SESSION, "message": asked("Cancel 5", order_id="5")}))
    asking = events[-1]["needs_confirmation"]
    assert asking["label"] == "Cancelling your order…" and asking["arguments"] == {"order_id": "5"}
    assert len(action_service.requests) == start
    refused = owner.post(chat_url, headers=from_page(), json={"session_id": SESSION, "confirm": {
        "call_id": "someone-elses", "approve": True}})
    assert refused.status_code == 409 and refused.headers["access-control-allow-origin"] == HOST_PAGE_ORIGIN
    events = sse_events(owner.post(chat_url, headers=from_page(), json={"session_id": SESSION, "confirm": {
        "call_id": asking["call_id"], "approve": True}}))
    assert [e["tool"]["status"] for e in events if "tool" in e] == ["running", "done"]
    assert "".join(e.get("text", "") for e in events) == TOOL_ANSWER and events[-1]["done"] is True
    assert [r["path"] for r in action_service.requests[start:]] == ["/orders/5"]
    history = owner.get(f"/api/v1/widget/{bot['id']}/history", params={"session_id": SESSION},
                        headers=from_page()).json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant", "assistant"]
    assert SECRET not in str(history)


def test_widget_chat_without_message_or_confirm_is_400(owner, fake_llm):
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN])
    response = owner.post(f"/api/v1/widget/{bot['id']}/chat", headers=from_page(), json={"session_id": SESSION})
    assert response.status_code == 400 and "message" in response.text


def _sealed_headers(settings) -> list[str]:
    conn = connect_sync_for(settings, readonly=True)
    try:
        return [row[0] for row in conn.execute("SELECT headers_sealed FROM actions ORDER BY id")]
    finally:
        conn.close()


def test_rotate_key_reseals_action_headers_and_they_still_arrive(tmp_path, action_service, capsys):
    data_dir = tmp_path / "data"
    live = start_server(make_settings(data_dir, outbound_allow_private=True))
    api = Api(live.url)
    try:
        api.setup_owner()
        bot = api.create_bot(api.ws, model="builtin/extractive")
        action = add_action(api, bot, action_service.url)
        before = _sealed_headers(live.settings)
        assert main(["rotate-key", "--data-dir", str(data_dir), *database_args(live.settings)]) == 0
        assert "action headers included" in capsys.readouterr().out
        new_id = load_key_ring("", data_dir).current_id
        after = _sealed_headers(live.settings)
        assert after != before and f"v1.{new_id}." in after[0] and SECRET not in after[0]
        start = len(action_service.requests)
        api.ok("POST", f"{actions_path(api, bot)}/{action['id']}/test", json={"arguments": {"order_id": "1"}})
        assert action_service.requests[start]["headers"]["authorization"] == SECRET
    finally:
        api.close()
        live.stop()


def test_no_action_runs_once_a_person_has_the_conversation(owner, fake_llm, action_service):
    bot = make_bot(owner, fake_llm, allowed_origins=[HOST_PAGE_ORIGIN], handoff={"enabled": True})
    action = add_action(owner, bot, action_service.url, confirm=True)
    use_tools(owner, bot, [{"type": "action", "id": action["id"]}])
    chat_url = f"/api/v1/widget/{bot['id']}/chat"
    events = sse_events(owner.post(chat_url, headers=from_page(),
                                   json={"session_id": SESSION, "message": asked("Cancel 6", order_id="6")}))
    call_id = events[-1]["needs_confirmation"]["call_id"]
    owner.ok("POST", f"/api/v1/widget/{bot['id']}/handoff", headers=from_page(), json={"session_id": SESSION})
    start = len(action_service.requests)
    response = owner.post(chat_url, headers=from_page(), json={"session_id": SESSION,
                                                               "confirm": {"call_id": call_id, "approve": True}})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conversation_with_person"
    assert len(action_service.requests) == start
