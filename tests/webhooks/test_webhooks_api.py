"""The webhook endpoints API: secrets shown once, validation naming the field, admins only,
cursor pagination, rotation."""

from __future__ import annotations

import base64

import pytest

from tests.support import Api

URL = "https://hooks.example.com/modelpilot"


def _create(admin: Api, **body) -> dict:
    return admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/webhooks", 201,
                    json={"url": URL, "events": ["lead.created"], **body})


def test_the_secret_is_shown_once_and_sealed(server, owner):
    created = _create(owner, description="CRM", events=["lead.created", "document.indexed"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert created["events"] == ["lead.created", "document.indexed"] and created["enabled"] is True
    shown = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/webhooks/{created['id']}")
    listed = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/webhooks")
    assert "secret" not in shown and all("secret" not in item for item in listed["items"])
    assert secret[6:] not in owner.get(f"/api/v1/workspaces/{owner.ws}/webhooks").text
    assert "conversation.started" in listed["event_types"]
    rotated = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/webhooks/{created['id']}/rotate-secret")
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    files = [server.settings.data_dir / name for name in ("modelpilot.db", "modelpilot.db-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists()) if not server.settings.database_url else b""
    assert secret[6:].encode() not in raw and rotated["secret"][6:].encode() not in raw


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://hooks.example.com/x", "events": ["lead.created"]}, "url"),
    ({"url": "not a url", "events": ["lead.created"]}, "url"),
    ({"url": "", "events": ["lead.created"]}, "url"),
    ({"url": "http://10.0.0.5/hook", "events": ["lead.created"]}, "url"),
    ({"url": "https://user:pw@hooks.example.com/x", "events": ["lead.created"]}, "url"),
    ({"url": URL, "events": ["lead.created", "lead.exploded"]}, "events"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": "lead.created"}, "events"),
    ({"url": URL}, "events"),
])
def test_bad_input_is_400_naming_the_field(server, owner, body, field):
    response = owner.post(f"/api/v1/workspaces/{owner.ws}/webhooks", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert field in error["message"]
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/webhooks")["items"] == []


def test_patch_validates_and_changes_only_what_it_names(server, owner):
    created = _create(owner, description="first")
    path = f"/api/v1/workspaces/{owner.ws}/webhooks/{created['id']}"
    bad = owner.patch(path, json={"events": ["nope"]})
    assert bad.status_code == 400 and "events" in bad.json()["error"]["message"]
    changed = owner.ok("PATCH", path, json={"events": ["message.feedback"], "enabled": False})
    assert changed["events"] == ["message.feedback"] and changed["enabled"] is False
    assert changed["description"] == "first" and changed["url"] == URL
    owner.ok("DELETE", path)
    assert owner.get(path).status_code == 404
    assert owner.post(path + "/deliveries/unknown/redeliver").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_manage_webhooks(server, owner, client_factory, role):
    created = _create(owner)
    member = client_factory()
    owner.invite_and_join(member, f"{role}@example.com", role)
    ws, hook = owner.ws, created["id"]
    calls = [("GET", f"/api/v1/workspaces/{ws}/webhooks", None),
             ("POST", f"/api/v1/workspaces/{ws}/webhooks", {"url": URL, "events": ["lead.created"]}),
             ("GET", f"/api/v1/workspaces/{ws}/webhooks/{hook}", None),
             ("PATCH", f"/api/v1/workspaces/{ws}/webhooks/{hook}", {"enabled": False}),
             ("POST", f"/api/v1/workspaces/{ws}/webhooks/{hook}/test", None),
             ("POST", f"/api/v1/workspaces/{ws}/webhooks/{hook}/rotate-secret", None),
             ("GET", f"/api/v1/workspaces/{ws}/webhooks/{hook}/deliveries", None),
             ("DELETE", f"/api/v1/workspaces/{ws}/webhooks/{hook}", None)]
    for method, path, body in calls:
        response = member.request(method, path, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.status_code}"
    assert owner.ok("GET", f"/api/v1/workspaces/{ws}/webhooks/{hook}")["enabled"] is True


def test_lists_are_cursor_paginated_newest_first(server, owner):
    made = [_create(owner, description=f"hook {i}")["id"] for i in range(5)]
    seen, times, cursor = [], [], None
    while True:
        page = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/webhooks",
                        params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        times += [item["created_at"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert times == sorted(times, reverse=True)
    bad = owner.get(f"/api/v1/workspaces/{owner.ws}/webhooks", params={"cursor": "???"})
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]["message"]
