"""Workspaces: roles, members, invitations, API tokens, audit log, and bad input."""

from __future__ import annotations

import pytest

from modelpilot.core.database import connect_sync_for
from modelpilot.core.tokens import hash_token
from tests.support import PASSWORD, Api


def ws_path(api: Api, suffix: str = "") -> str:
    return f"/api/v1/workspaces/{api.ws}{suffix}"


def test_create_list_rename_delete(owner: Api) -> None:
    second = owner.ok("POST", "/api/v1/workspaces", json={"name": "  Client Two "})
    assert second["name"] == "Client Two" and second["role"] == "admin"
    assert [w["name"] for w in owner.ok("GET", "/api/v1/workspaces")] == ["Acme", "Client Two"]
    path = f"/api/v1/workspaces/{second['id']}"
    renamed = owner.ok("PATCH", path, json={"name": "Client 2", "settings": {"retention_days": 30}})
    assert renamed["name"] == "Client 2" and renamed["settings"] == {"retention_days": 30}
    assert owner.ok("PATCH", path, json={"settings": {"retention_days": None}})["settings"] == {}
    assert owner.delete(path).status_code == 204
    assert owner.get(path).status_code == 404
    assert [w["name"] for w in owner.ok("GET", "/api/v1/workspaces")] == ["Acme"]


@pytest.mark.parametrize(
    ("method", "suffix", "body", "field"),
    [
        ("POST", None, {"name": ""}, "name"),
        ("POST", None, {"name": "x" * 101}, "name"),
        ("POST", None, {}, "name"),
        ("PATCH", "", {"name": 7}, "name"),
        ("PATCH", "", {"settings": {"retention_days": 0}}, "retention_days"),
        ("PATCH", "", {"settings": {"retention_days": "ten"}}, "retention_days"),
        ("PATCH", "", {"settings": {"colour": "red"}}, "colour"),
        ("POST", "/invitations", {"email": "nope", "role": "viewer"}, "email"),
        ("POST", "/invitations", {"email": "a@example.com", "role": "owner"}, "role"),
        ("POST", "/api-tokens", {"name": "", "role": "viewer"}, "name"),
        ("POST", "/api-tokens", {"name": "t", "role": "root"}, "role"),
    ],
)
def test_bad_input_is_400_naming_the_field(owner: Api, method, suffix, body, field) -> None:
    path = "/api/v1/workspaces" if suffix is None else ws_path(owner, suffix)
    response = owner.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]
    assert owner.ok("GET", ws_path(owner))["name"] == "Acme"


def test_viewer_reads_but_cannot_write(owner: Api, client_factory) -> None:
    viewer = client_factory()
    joined = owner.invite_and_join(viewer, "viewer@example.com", "viewer")
    assert {"id": owner.ws, "name": "Acme", "role": "viewer"} in joined["workspaces"]
    assert viewer.ok("GET", ws_path(owner))["role"] == "viewer"
    assert len(viewer.ok("GET", ws_path(owner, "/members"))) == 2
    for method, suffix, body in [
        ("PATCH", "", {"name": "Hijacked"}),
        ("DELETE", "", None),
        ("POST", "/invitations", {"email": "x@example.com", "role": "admin"}),
        ("POST", "/api-tokens", {"name": "t", "role": "admin"}),
        ("GET", "/api-tokens", None),
        ("PATCH", f"/members/{viewer.user['id']}", {"role": "admin"}),
    ]:
        response = viewer.request(method, ws_path(owner, suffix), json=body)
        assert response.status_code == 403, f"{method} {suffix}: {response.status_code}"
        assert response.json()["error"]["code"] == "forbidden"
    assert owner.ok("GET", ws_path(owner))["name"] == "Acme"


def test_member_of_another_workspace_gets_404(owner: Api, server_factory) -> None:
    other_live = owner  # same server; a stranger signs up through an invitation to a new workspace
    stranger = Api(str(other_live.base_url))
    second = owner.ok("POST", "/api/v1/workspaces", json={"name": "Side"})
    owner.invite_and_join(stranger, "stranger@example.com", "admin", ws=second["id"])
    for method in ("GET", "PATCH", "DELETE"):
        response = stranger.request(method, ws_path(owner), json={"name": "x"} if method == "PATCH" else None)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    stranger.close()


def test_last_admin_can_be_neither_removed_nor_demoted(owner: Api, client_factory) -> None:
    me = owner.user["id"]
    demote = owner.patch(ws_path(owner, f"/members/{me}"), json={"role": "editor"})
    assert demote.status_code == 409 and demote.json()["error"]["code"] == "last_admin"
    assert owner.delete(ws_path(owner, f"/members/{me}")).status_code == 409
    second = client_factory()
    owner.invite_and_join(second, "second@example.com", "admin")
    assert owner.ok("PATCH", ws_path(owner, f"/members/{me}"), json={"role": "editor"})["role"] == "editor"
    assert second.delete(ws_path(owner, f"/members/{second.user['id']}")).status_code == 409
    assert second.delete(ws_path(owner, f"/members/{me}")).status_code == 204
    assert owner.get(ws_path(owner)).status_code == 404
    assert owner.delete(ws_path(owner, "/members/unknown-user")).status_code == 404


def test_invitation_single_use_and_expiry(server, owner: Api, client_factory) -> None:
    invite = owner.ok("POST", ws_path(owner, "/invitations"), json={"email": "new@example.com", "role": "editor"})
    assert invite["accept_url"].startswith(server.settings.base_url)
    token = invite["accept_url"].rsplit("/", 1)[1]
    info = client_factory().ok("GET", f"/api/v1/invitations/{token}")
    assert info == {"workspace_name": "Acme", "email": "new@example.com", "role": "editor",
                    "expires_at": invite["expires_at"]}
    wrong_email = client_factory().post(f"/api/v1/invitations/{token}/accept",
                                        json={"email": "other@example.com", "password": PASSWORD, "name": "O"})
    assert wrong_email.status_code == 400 and "email" in wrong_email.json()["error"]["message"]
    weak = client_factory().post(f"/api/v1/invitations/{token}/accept",
                                 json={"email": "new@example.com", "password": "12345678", "name": "N"})
    assert weak.status_code == 400
    joiner = client_factory()
    body = joiner.ok("POST", f"/api/v1/invitations/{token}/accept",
                     json={"email": "new@example.com", "password": PASSWORD, "name": "New"})
    assert body["workspaces"] == [{"id": owner.ws, "name": "Acme", "role": "editor"}]
    again = client_factory().post(f"/api/v1/invitations/{token}/accept",
                                  json={"email": "new@example.com", "password": PASSWORD, "name": "New"})
    assert again.status_code == 410
    late = owner.ok("POST", ws_path(owner, "/invitations"), json={"email": "late@example.com", "role": "viewer"})
    conn = connect_sync_for(server.settings)
    conn.execute("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", (late["id"],))
    conn.close()
    late_token = late["accept_url"].rsplit("/", 1)[1]
    expired = client_factory().post(f"/api/v1/invitations/{late_token}/accept",
                                    json={"email": "late@example.com", "password": PASSWORD, "name": "L"})
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "invitation_expired"
    assert client_factory().post("/api/v1/invitations/not-a-token/accept", json={}).status_code in (401, 404)


def test_logged_in_user_accepts_and_keeps_higher_role(server, owner: Api) -> None:
    second = owner.ok("POST", "/api/v1/workspaces", json={"name": "Second"})
    refused = owner.post(f"/api/v1/workspaces/{second['id']}/invitations",
                         json={"email": "owner@example.com", "role": "viewer"})
    assert refused.status_code == 409 and refused.json()["error"]["details"][0]["field"] == "email"
    # An invitation made before members could no longer be invited still never lowers a role.
    conn = connect_sync_for(server.settings)
    conn.execute("INSERT INTO invitations (id, workspace_id, email, role, token_hash, created_at, expires_at)"
                 " VALUES ('old', ?, 'owner@example.com', 'viewer', ?, '2026-01-01T00:00:00.000Z',"
                 " '2999-01-01T00:00:00.000Z')", (second["id"], hash_token("old-token")))
    conn.close()
    body = owner.ok("POST", "/api/v1/invitations/old-token/accept")
    assert {"id": second["id"], "name": "Second", "role": "admin"} in body["workspaces"]


def test_api_tokens_shown_once_scoped_and_revocable(owner: Api, client_factory) -> None:
    created = owner.ok("POST", ws_path(owner, "/api-tokens"), json={"name": "deploy", "role": "viewer"})
    secret = created["token"]
    assert secret.startswith("mp_") and len(secret) > 40
    listed = owner.ok("GET", ws_path(owner, "/api-tokens"))
    assert secret not in str(listed) and listed[0]["prefix"] == secret[:7]
    robot = client_factory()
    robot.headers["Authorization"] = f"Bearer {secret}"
    assert robot.ok("GET", ws_path(owner))["role"] == "viewer"
    assert robot.patch(ws_path(owner), json={"name": "x"}).status_code == 403
    other = owner.ok("POST", "/api/v1/workspaces", json={"name": "Elsewhere"})
    assert robot.get(f"/api/v1/workspaces/{other['id']}").status_code == 404
    assert robot.get("/api/v1/auth/me").status_code == 401, "a token is not a user"
    assert owner.delete(ws_path(owner, f"/api-tokens/{created['id']}")).status_code == 204
    revoked = robot.get(ws_path(owner))
    assert revoked.status_code == 401
    bogus = client_factory()
    bogus.headers["Authorization"] = "Bearer mp_forged"
    assert bogus.get(ws_path(owner)).status_code == 401


def test_audit_log_records_security_actions(owner: Api, client_factory) -> None:
    token = owner.ok("POST", ws_path(owner, "/api-tokens"), json={"name": "ci", "role": "viewer"})
    owner.delete(ws_path(owner, f"/api-tokens/{token['id']}"))
    joiner = client_factory()
    owner.invite_and_join(joiner, "joiner@example.com", "viewer")
    owner.ok("PATCH", ws_path(owner, f"/members/{joiner.user['id']}"), json={"role": "editor"})
    owner.ok("PATCH", ws_path(owner), json={"name": "Renamed"})
    actions = [entry["action"] for entry in owner.ok("GET", ws_path(owner, "/audit-log"))]
    for expected in ("workspace.created", "api_token.created", "api_token.revoked", "invitation.created",
                     "invitation.accepted", "member.role_changed", "workspace.updated"):
        assert expected in actions
    assert owner.get(ws_path(owner, "/audit-log?limit=0")).status_code == 400


def test_session_idle_and_absolute_expiry(server, owner: Api) -> None:
    conn = connect_sync_for(server.settings)
    try:
        conn.execute("UPDATE sessions SET last_seen_at = '2000-01-01T00:00:00.000Z'")
        assert owner.get("/api/v1/auth/me").status_code == 401, "idle session must end"
        owner.login("owner@example.com")
        assert owner.get("/api/v1/auth/me").status_code == 200
        conn.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'")
        assert owner.get("/api/v1/auth/me").status_code == 401, "absolute lifetime must end"
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    finally:
        conn.close()


def test_open_signup_is_off_by_default(api: Api) -> None:
    api.setup_owner()
    response = api.post("/api/v1/auth/signup", json={"email": "x@example.com", "password": PASSWORD,
                                                     "name": "X", "workspace_name": "W"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "signup_closed"


def test_open_signup_when_enabled(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as first, Api(live.url) as second:
        first.setup_owner()
        body = second.signup("new@example.com", "Mine")
        assert [w["name"] for w in body["workspaces"]] == ["Mine"]
        dup = second.post("/api/v1/auth/signup", json={"email": "NEW@example.com", "password": PASSWORD,
                                                      "name": "X", "workspace_name": "W"})
        assert dup.status_code == 409 and dup.json()["error"]["details"][0]["field"] == "email"
