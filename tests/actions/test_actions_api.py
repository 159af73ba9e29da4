"""HTTP actions over the API: saving with checks, sealed headers, the test button, SSRF refusals."""

from __future__ import annotations

import pytest

from tests.actions.conftest import ORDER_SCHEMA, SECRET, actions_path, add_action, use_tools
from tests.support import Api


def test_create_read_update_delete_never_returns_header_values(owner, bot, action_service):
    created = add_action(owner, bot, action_service.url, label="Checking your order…", confirm=True)
    assert created["headers"] == [{"name": "Authorization", "set": True}]
    assert created["label"] == "Checking your order…" and created["confirm"] is True
    assert created["chatbot_id"] == bot["id"] and created["timeout_s"] == 10 and created["max_response_bytes"] == 32768
    path = f"{actions_path(owner, bot)}/{created['id']}"
    for shown in (owner.get(path).text, owner.get(actions_path(owner, bot)).text):
        assert SECRET not in shown and "s3cr3t" not in shown
    assert owner.ok("GET", actions_path(owner, bot))["items"][0]["id"] == created["id"]
    changed = owner.ok("PATCH", path, json={"description": "Find an order.", "timeout_s": 2})
    assert changed["description"] == "Find an order." and changed["timeout_s"] == 2
    assert changed["headers"] == [{"name": "Authorization", "set": True}]
    owner.ok("DELETE", path, 204)
    assert owner.get(path).status_code == 404


def test_patch_headers_null_keeps_new_value_replaces_omitted_removes(owner, bot, action_service):
    action = add_action(owner, bot, action_service.url, headers={"Authorization": SECRET, "X-Old": "old-value-1"})
    path = f"{actions_path(owner, bot)}/{action['id']}"
    changed = owner.ok("PATCH", path, json={"headers": {"Authorization": None, "X-New": "new-value-2"}})
    assert changed["headers"] == [{"name": "Authorization", "set": True}, {"name": "X-New", "set": True}]
    start = len(action_service.requests)
    owner.ok("POST", path + "/test", json={"arguments": {"order_id": "1"}})
    sent = action_service.requests[start]["headers"]
    assert sent["authorization"] == SECRET and sent["x-new"] == "new-value-2" and "x-old" not in sent


def test_test_button_percent_encodes_path_values_and_sends_sealed_headers(owner, bot, action_service):
    action = add_action(owner, bot, action_service.url)
    start = len(action_service.requests)
    result = owner.ok("POST", f"{actions_path(owner, bot)}/{action['id']}/test", json={"arguments": {"order_id": "a/b c"}})
    assert result["ok"] is True and result["status"] == 200 and result["error"] is None
    assert isinstance(result["latency_ms"], int) and "shipped" in result["response_excerpt"]
    received = action_service.requests[start]
    assert received["path"] == "/orders/a%2Fb%20c" and received["headers"]["authorization"] == SECRET


def test_test_button_with_arguments_the_schema_refuses_sends_nothing(owner, bot, action_service):
    action = add_action(owner, bot, action_service.url)
    start = len(action_service.requests)
    response = owner.post(f"{actions_path(owner, bot)}/{action['id']}/test", json={"arguments": {"order_id": 5}})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "arguments"
    assert len(action_service.requests) == start


def test_echoed_secrets_are_blanked_in_the_test_result(owner, bot, action_service):
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/echo-headers",
                        parameters={"type": "object", "properties": {}})
    result = owner.ok("POST", f"{actions_path(owner, bot)}/{action['id']}/test", json={"arguments": {}})
    assert result["ok"] and "authorization" in result["response_excerpt"]
    assert SECRET not in result["response_excerpt"] and "[redacted]" in result["response_excerpt"]


def test_post_body_template_keeps_types_and_fills_strings(owner, bot, action_service):
    schema = {"type": "object", "properties": {"qty": {"type": "integer"}, "note": {"type": "string"}}}
    action = add_action(owner, bot, action_service.url, url=action_service.url + "/tickets", method="POST",
                        parameters=schema, body={"quantity": "{qty}", "text": "Note: {note}"})
    start = len(action_service.requests)
    owner.ok("POST", f"{actions_path(owner, bot)}/{action['id']}/test", json={"arguments": {"qty": 3, "note": "hi"}})
    received = action_service.requests[start]
    assert received["method"] == "POST" and received["body"] == '{"quantity": 3, "text": "Note: hi"}'


BAD = [
    ({"name": "has space"}, "name"),
    ({"parameters": {"type": "string"}}, "parameters"),
    ({"parameters": {"type": "object", "properties": {"x": {"type": "nonsense"}}}}, "parameters"),
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "https://{host}.example.com/x"}, "url"),
    ({"url": "https://api.example.com/orders/{missing}"}, "url"),
    ({"url": "https://api.example.com/me/{visitor.sub}"}, "verified_only"),
    ({"body": {"a": "{order_id}"}}, "body"),  # GET has no body
    ({"timeout_s": 31}, "timeout_s"),
    ({"max_response_bytes": 10}, "max_response_bytes"),
    ({"headers": {"Bad Name": "x"}}, "headers.Bad Name"),
    ({"description": "   "}, "description"),
]


@pytest.mark.parametrize("change,field", BAD)
def test_bad_actions_are_400_naming_the_field(owner, bot, change, field):
    body = {"name": "lookup_order", "description": "Look up an order.", "parameters": ORDER_SCHEMA,
            "url": "https://api.example.com/orders/{order_id}", **change}
    response = owner.post(actions_path(owner, bot), json=body)
    assert response.status_code == 400, response.text
    fields = [d["field"] for d in response.json()["error"].get("details") or []]
    assert field in fields or field in response.json()["error"]["message"], response.text


def test_names_are_unique_per_bot(owner, bot, action_service):
    add_action(owner, bot, action_service.url)
    response = owner.post(actions_path(owner, bot), json={"name": "lookup_order", "description": "Again.",
                                                          "url": "https://api.example.com/x"})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "name"


def test_viewer_reads_but_cannot_write_or_test(owner, bot, action_service, client_factory):
    action = add_action(owner, bot, action_service.url)
    viewer = client_factory()
    owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    assert viewer.ok("GET", actions_path(owner, bot))["items"][0]["id"] == action["id"]
    assert viewer.post(actions_path(owner, bot), json={"name": "x", "description": "y",
                                                       "url": "https://a.example.com/"}).status_code == 403
    assert viewer.post(f"{actions_path(owner, bot)}/{action['id']}/test", json={}).status_code == 403


def test_bot_tools_must_name_this_bots_actions(owner, bot, action_service):
    response = owner.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
                           json={"tools": [{"type": "builtin", "name": "handoff"}, {"type": "action", "id": "nope"}]})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "tools[1]"
    other = owner.create_bot(owner.ws, name="Other bot", model="gpt-4o-mini")
    foreign = add_action(owner, other, action_service.url)
    response = owner.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
                           json={"tools": [{"type": "action", "id": foreign["id"]}]})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "tools[0]"
    action = add_action(owner, bot, action_service.url)
    saved = use_tools(owner, bot, [{"type": "action", "id": action["id"]}], max_tool_rounds=2)
    assert saved["tools"] == [{"type": "action", "id": action["id"]}] and saved["max_tool_rounds"] == 2
    assert saved["tool_support"] == {"supported": True, "reason": None}
    assert owner.patch(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
                       json={"max_tool_rounds": 9}).status_code == 400


def test_builtin_bot_says_it_has_no_tool_support(owner):
    bot = owner.create_bot(owner.ws, model="builtin/extractive")
    assert bot["tool_support"]["supported"] is False and "extractive" in bot["tool_support"]["reason"]


def test_private_address_refused_without_the_setting(server_factory, fake_llm, action_service):
    live = server_factory()  # MODELPILOT_OUTBOUND_ALLOW_PRIVATE not set
    api = Api(live.url)
    try:
        api.setup_owner()
        bot = api.create_bot(api.ws, model="builtin/extractive")
        response = api.post(actions_path(api, bot), json={"name": "x", "description": "y",
                                                          "url": action_service.url + "/orders/1"})
        assert response.status_code == 400 and "MODELPILOT_OUTBOUND_ALLOW_PRIVATE" in response.text
        # A name that resolves to loopback passes the save, and the guard refuses it at connect time.
        port = action_service.url.rsplit(":", 1)[1]
        action = api.ok("POST", actions_path(api, bot), 201, json={
            "name": "x", "description": "y", "url": f"http://localhost:{port}/orders/1"})
        start = len(action_service.requests)
        result = api.ok("POST", f"{actions_path(api, bot)}/{action['id']}/test", json={})
        assert result["ok"] is False and result["status"] is None
        assert "MODELPILOT_OUTBOUND_ALLOW_PRIVATE" in result["error"]
        assert len(action_service.requests) == start
    finally:
        api.close()
