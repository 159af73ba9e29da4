"""The MCP servers API (contract: "MCP servers"): CRUD, sealed headers that reach the remote
server and never come back, tools listed live, 502 mcp_unavailable, the address guard, roles."""

from __future__ import annotations

import time

import pytest

from modelpilot.core.crypto import load_key_ring
from tests.mcpservers.conftest import LIST_TIMEOUT, run_with_db
from tests.mcpservers.remote_server import RemoteMcp
from tests.support import Api, start_server

SECRET = "Bearer sk-live-very-secret-4242"


def _base(admin: Api) -> str:
    return f"/api/v1/workspaces/{admin.ws}/mcp-servers"


def _add(admin: Api, url: str, name: str = "Orders", headers: dict | None = None) -> dict:
    return admin.ok("POST", _base(admin), 201, json={"name": name, "url": url, "headers": headers or {}})


def _stored_row(live, server_id: str) -> dict:
    async def read(db):
        async with db.read() as conn:
            from modelpilot.core.db import fetch_one
            return await fetch_one(conn, "SELECT * FROM mcp_servers WHERE id = ?", (server_id,))
    return run_with_db(live.settings, read)


def test_create_read_update_delete(mcp_app, remote):
    live, admin = mcp_app
    created = admin.post(_base(admin), json={"name": "Orders", "url": remote.url,
                                             "headers": {"Authorization": SECRET, "X-Team": "blue"}})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "url", "headers", "created_at", "updated_at"}
    assert body["headers"] == [{"name": "Authorization", "set": True}, {"name": "X-Team", "set": True}]
    assert body["url"] == remote.url and body["name"] == "Orders"
    server_id = body["id"]
    for text in (created.text, admin.get(_base(admin)).text, admin.get(f"{_base(admin)}/{server_id}").text):
        assert "sk-live" not in text and "blue" not in text
    listed = admin.ok("GET", _base(admin))
    assert [s["id"] for s in listed["items"]] == [server_id] and listed["next_cursor"] is None
    renamed = admin.ok("PATCH", f"{_base(admin)}/{server_id}", json={"name": "Order desk"})
    assert renamed["name"] == "Order desk" and renamed["headers"] == body["headers"]
    assert renamed["updated_at"] >= body["updated_at"]
    admin.ok("DELETE", f"{_base(admin)}/{server_id}", 204)
    assert admin.get(f"{_base(admin)}/{server_id}").status_code == 404
    assert admin.delete(f"{_base(admin)}/{server_id}").status_code == 404


def test_header_values_are_sealed_at_rest_and_reach_the_server(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url, headers={"Authorization": SECRET})
    row = _stored_row(live, server["id"])
    assert row["headers_sealed"].startswith("v1.") and "sk-live" not in row["headers_sealed"]
    assert "sk-live" not in str(row)
    remote.required_token = SECRET.split(" ", 1)[1]
    tools = admin.ok("GET", f"{_base(admin)}/{server['id']}/tools")["items"]
    # every tool but `bloated`, whose 40 KB input schema would flood a prompt
    assert {t["name"] for t in tools} == {"echo", "fail", "slow", "huge", "picture", "whoami", "wordy"}
    assert remote.requests and all(r["authorization"] == SECRET for r in remote.requests)
    assert all(r["user-agent"].startswith("ModelPilot-MCP/") for r in remote.requests)


def test_tools_are_listed_live_with_their_schema_and_read_only_hint(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    tools = {t["name"]: t for t in admin.ok("GET", f"{_base(admin)}/{server['id']}/tools")["items"]}
    assert tools["echo"] == {"name": "echo", "description": "Repeat the arguments back as JSON.",
                             "read_only": True, "input_schema": tools["echo"]["input_schema"]}
    assert tools["echo"]["input_schema"]["properties"]["text"]["type"] == "string"
    assert tools["fail"]["read_only"] is None
    assert len(tools["wordy"]["description"]) == 1024 and tools["wordy"]["description"].endswith("…")
    before = len(remote.requests)
    admin.ok("GET", f"{_base(admin)}/{server['id']}/tools")
    assert len(remote.requests) > before  # asked again: the route never answers from the cache


def test_patch_headers_keeps_null_values_and_removes_omitted_names(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url, headers={"Authorization": SECRET, "X-Team": "blue"})
    url = f"{_base(admin)}/{server['id']}"
    patched = admin.ok("PATCH", url, json={"headers": {"Authorization": None, "X-Region": "eu"}})
    assert patched["headers"] == [{"name": "Authorization", "set": True}, {"name": "X-Region", "set": True}]
    admin.ok("GET", url + "/tools")
    last = remote.requests[-1]
    assert last["authorization"] == SECRET and last["x-region"] == "eu" and "x-team" not in last
    admin.ok("PATCH", url, json={"headers": {}})
    remote.required_token = "sk-live-very-secret-4242"
    failed = admin.get(url + "/tools")
    assert failed.status_code == 502
    assert failed.json()["error"] == {"code": "mcp_unavailable", "message": failed.json()["error"]["message"]}
    assert "HTTP 401" in failed.json()["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ({"name": "", "url": "https://tools.example.com/mcp"}, "name"),
    ({"name": "A", "url": "ftp://tools.example.com/mcp"}, "url"),
    ({"name": "A", "url": "https://user:pw@tools.example.com/mcp"}, "url"),
    ({"name": "A", "url": "not a url"}, "url"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "headers": {"Content-Type": "x"}}, "headers.Content-Type"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "headers": {"Bad Header": "x"}}, "headers.Bad Header"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "headers": {"X-Key": "a\r\nX-Evil: 1"}}, "headers.X-Key"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "headers": {"X-Key": None}}, "headers.X-Key"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "headers": {"x-key": "1", "X-Key": "2"}}, "headers.X-Key"),
    ({"name": "A", "url": "https://tools.example.com/mcp", "surprise": 1}, "surprise"),
])
def test_bad_input_is_a_400_naming_the_field(mcp_app, body, field):
    live, admin = mcp_app
    response = admin.post(_base(admin), json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert field in error["message"]
    if error.get("details"):
        assert field in [d["field"] for d in error["details"]]


def test_names_are_unique_in_a_workspace(mcp_app, remote):
    live, admin = mcp_app
    first = _add(admin, remote.url, "Orders")
    second = _add(admin, remote.url, "Billing")
    assert admin.post(_base(admin), json={"name": "Orders", "url": remote.url}).status_code == 400
    clash = admin.patch(f"{_base(admin)}/{second['id']}", json={"name": "Orders"})
    assert clash.status_code == 400 and "name" in clash.json()["error"]["message"]
    assert admin.ok("PATCH", f"{_base(admin)}/{first['id']}", json={"name": "Orders"})["name"] == "Orders"


def test_an_unreachable_or_stalled_server_is_a_502_within_the_list_timeout(mcp_app, remote):
    live, admin = mcp_app
    gone = RemoteMcp()
    down = _add(admin, gone.url, "Down")
    gone.stop()
    response = admin.get(f"{_base(admin)}/{down['id']}/tools")
    assert response.status_code == 502 and response.json()["error"]["code"] == "mcp_unavailable"
    assert "Could not connect" in response.json()["error"]["message"]
    stalled = _add(admin, remote.url, "Stalled")
    remote.stall_seconds = 10
    started = time.monotonic()
    response = admin.get(f"{_base(admin)}/{stalled['id']}/tools")
    assert response.status_code == 502 and f"within {LIST_TIMEOUT:g} s" in response.json()["error"]["message"]
    assert time.monotonic() - started < LIST_TIMEOUT + 3


def test_private_addresses_are_refused_without_the_allow_setting(server_factory, remote):
    live = server_factory()  # MODELPILOT_OUTBOUND_ALLOW_PRIVATE unset
    admin = Api(live.url)
    admin.setup_owner()
    literal = admin.post(_base(admin), json={"name": "Loop", "url": remote.url})
    assert literal.status_code == 400 and "MODELPILOT_OUTBOUND_ALLOW_PRIVATE" in literal.json()["error"]["message"]
    named = _add(admin, remote.localhost_url(), "Named")  # a name: only known once resolved
    response = admin.get(f"{_base(admin)}/{named['id']}/tools")
    assert response.status_code == 502
    assert "private, loopback or link-local" in response.json()["error"]["message"]
    assert remote.requests == []  # refused before any connection
    admin.close()


def test_viewers_read_and_editors_write(mcp_app, remote):
    live, admin = mcp_app
    server = _add(admin, remote.url)
    viewer, editor = Api(live.url), Api(live.url)
    try:
        admin.invite_and_join(viewer, "viewer@example.com", "viewer")
        admin.invite_and_join(editor, "editor@example.com", "editor")
        base = _base(admin)
        assert viewer.get(base).status_code == 200
        assert viewer.get(f"{base}/{server['id']}/tools").status_code == 200
        assert viewer.post(base, json={"name": "V", "url": remote.url}).status_code == 403
        assert viewer.patch(f"{base}/{server['id']}", json={"name": "V"}).status_code == 403
        assert viewer.delete(f"{base}/{server['id']}").status_code == 403
        made = editor.ok("POST", base, 201, json={"name": "E", "url": remote.url})
        editor.ok("DELETE", f"{base}/{made['id']}", 204)
    finally:
        viewer.close()
        editor.close()


def test_the_list_is_paginated_newest_first(mcp_app, remote):
    live, admin = mcp_app
    ids = [_add(admin, remote.url, f"S{i}")["id"] for i in range(3)]
    first = admin.ok("GET", _base(admin), params={"limit": 2})
    rest = admin.ok("GET", _base(admin), params={"limit": 2, "cursor": first["next_cursor"]})
    assert [s["id"] for s in first["items"] + rest["items"]] == ids[::-1] and rest["next_cursor"] is None
    assert admin.get(_base(admin), params={"cursor": "garbage!"}).status_code == 400


def test_rotate_key_reseals_mcp_headers(server_factory, remote, capsys):
    from modelpilot.cli import main
    from tests.support import database_args

    live = server_factory(outbound_allow_private=True)
    admin = Api(live.url)
    admin.setup_owner()
    server = _add(admin, remote.url, headers={"Authorization": SECRET})
    admin.close()
    live.stop()
    data_dir = live.settings.data_dir
    old_id = load_key_ring("", data_dir).current_id
    assert main(["rotate-key", "--data-dir", str(data_dir), *database_args(live.settings)]) == 0
    assert "MCP server headers included" in capsys.readouterr().out
    new_id = load_key_ring("", data_dir).current_id
    assert new_id != old_id and len((data_dir / "secret.key").read_text().split()) == 1
    assert _stored_row(live, server["id"])["headers_sealed"].split(".")[1] == new_id
    again = start_server(live.settings)
    try:
        admin = Api(again.url)
        admin.login("owner@example.com")
        remote.required_token = SECRET.split(" ", 1)[1]
        assert admin.ok("GET", f"{_base(admin)}/{server['id']}/tools")["items"]
        admin.close()
    finally:
        again.stop()


def test_mcp_requests_show_up_in_metrics(mcp_app, remote):
    from tests.ops.test_metrics_registry import parse

    live, admin = mcp_app
    server = _add(admin, remote.url)
    ok, down = 'modelpilot_mcp_requests_total{op="list",outcome="ok"}', \
        'modelpilot_mcp_requests_total{op="list",outcome="unavailable"}'
    before = parse(admin.get("/metrics").text)
    admin.ok("GET", f"{_base(admin)}/{server['id']}/tools")
    remote.required_token = "nobody-has-this"
    assert admin.get(f"{_base(admin)}/{server['id']}/tools").status_code == 502
    after = parse(admin.get("/metrics").text)
    assert after[ok] == before.get(ok, 0) + 1 and after[down] == before.get(down, 0) + 1
    assert after['modelpilot_mcp_request_seconds_count{op="list"}'] >= 2
