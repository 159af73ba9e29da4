"""Accounts: first-run setup, login, sessions, throttling, CSRF and bad input."""

from __future__ import annotations

import pytest

from modelpilot.core.passwords import HASHER
from tests.support import PASSWORD, Api

SETUP = "/api/v1/auth/setup"


def setup_body(**changes) -> dict:
    return {"email": "owner@example.com", "password": PASSWORD, "name": "Owner", "workspace_name": "Acme", **changes}


def test_first_run_setup_creates_owner_workspace_and_session(api: Api) -> None:
    assert api.ok("GET", SETUP) == {"needed": True, "token_required": False}
    response = api.post(SETUP, json=setup_body())
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "owner@example.com" and body["user"]["is_owner"] is True
    assert [w["role"] for w in body["workspaces"]] == ["admin"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert api.ok("GET", "/api/v1/auth/me")["user"]["id"] == body["user"]["id"]
    assert api.ok("GET", SETUP) == {"needed": False, "token_required": False}


def test_setup_runs_only_once(api: Api, client_factory) -> None:
    api.setup_owner()
    intruder = client_factory()
    response = intruder.post(SETUP, json=setup_body(email="evil@example.com"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "setup_done"


def test_cookie_is_secure_behind_https(server_factory) -> None:
    live = server_factory(public_url="https://chat.example.com")
    with Api(live.url) as client:
        response = client.post(SETUP, json=setup_body())
        assert response.status_code == 201
        assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (setup_body(email="not-an-email"), "email"),
        (setup_body(email="a@b"), "email"),
        (setup_body(email=""), "email"),
        (setup_body(password="short"), "password"),
        (setup_body(password="password123"), "password"),
        (setup_body(password="owner"), "password"),
        (setup_body(password="x" * 300), "password"),
        (setup_body(name="n" * 201), "name"),
        (setup_body(workspace_name=""), "workspace_name"),
        (setup_body(workspace_name="   "), "workspace_name"),
        (setup_body(email=5), "email"),
        (setup_body(password=None), "password"),
        ({"email": "owner@example.com", "password": PASSWORD, "name": "x"}, "workspace_name"),
        ({**setup_body(), "is_owner": True}, "is_owner"),
    ],
)
def test_setup_bad_input_names_the_field(api: Api, body: dict, field: str) -> None:
    response = api.post(SETUP, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"]
    assert any(field in d["field"] or field in d["message"] for d in error["details"])
    assert api.ok("GET", SETUP) == {"needed": True, "token_required": False}, "a refused setup must not create anything"


def test_malformed_json_is_a_400_not_a_500(api: Api) -> None:
    response = api.post(SETUP, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert response.json()["error"]["details"][0]["field"] == "body"
    empty = api.post(SETUP, content=b"", headers={"content-type": "application/json"})
    assert empty.status_code == 400 and empty.json()["error"]["details"][0]["field"] == "body"


def test_sixty_four_character_passphrase_is_allowed(owner: Api, client_factory) -> None:
    long_password = "correct horse battery staple " * 2 + "abcdef"
    assert len(long_password) >= 64
    invite = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/invitations", json={"email": "long@example.com"})
    token = invite["accept_url"].rsplit("/", 1)[1]
    body = {"email": "long@example.com", "password": long_password, "name": "Long"}
    client_factory().ok("POST", f"/api/v1/invitations/{token}/accept", json=body)
    assert client_factory().login("long@example.com", long_password)["user"]["email"] == "long@example.com"


def test_login_logout_and_generic_error(owner: Api, client_factory) -> None:
    fresh = client_factory()
    wrong = fresh.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "wrong password!"})
    unknown = fresh.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong password!"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json(), "unknown emails and wrong passwords must look the same"
    first = fresh.post("/api/v1/auth/login", json={"email": "Owner@Example.com", "password": PASSWORD})
    assert first.status_code == 200
    token1 = fresh.cookies.get("mp_session")
    fresh.cookies.clear()
    fresh.login("owner@example.com")
    assert fresh.cookies.get("mp_session") != token1, "each login issues a new session token"
    assert fresh.post("/api/v1/auth/logout").status_code == 200
    fresh.cookies.set("mp_session", token1)
    assert fresh.get("/api/v1/auth/me").status_code == 200, "the other session is still valid"
    fresh.post("/api/v1/auth/logout")
    fresh.cookies.set("mp_session", token1)
    assert fresh.get("/api/v1/auth/me").status_code == 401


def test_ten_bad_logins_are_throttled_with_retry_after(owner: Api, client_factory) -> None:
    attacker = client_factory()
    statuses = []
    for _ in range(10):
        r = attacker.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "guess guess"})
        statuses.append(r.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    blocked = attacker.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    assert blocked.status_code == 429, "the right password does not bypass the lock"
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["error"]["code"] == "rate_limited"


def test_throttle_per_ip_covers_many_accounts(owner: Api, client_factory) -> None:
    attacker = client_factory()
    codes = [attacker.post("/api/v1/auth/login", json={"email": f"user{i}@example.com", "password": "guess guess"}).status_code
             for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_csrf_foreign_origin_refused_same_origin_allowed(owner: Api) -> None:
    path = "/api/v1/workspaces"
    evil = owner.post(path, json={"name": "x"}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.json()["error"]["code"] == "csrf_refused"
    cross = owner.post(path, json={"name": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    same_site = owner.post(path, json={"name": "x"}, headers={"Sec-Fetch-Site": "same-site"})
    assert same_site.status_code == 403, "a sibling subdomain is not our origin"
    ok = owner.post(path, json={"name": "x"}, headers={"Sec-Fetch-Site": "same-origin", "Origin": str(owner.base_url)})
    assert ok.status_code == 201
    own_origin = owner.post(path, json={"name": "y"}, headers={"Origin": str(owner.base_url).rstrip("/")})
    assert own_origin.status_code == 201
    names = [w["name"] for w in owner.ok("GET", path)]
    assert names.count("x") == 1


def test_bearer_requests_are_exempt_from_csrf(owner: Api, client_factory) -> None:
    token = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/api-tokens", json={"name": "ci", "role": "admin"})["token"]
    bot = client_factory()
    bot.headers["Authorization"] = f"Bearer {token}"
    r = bot.patch(f"/api/v1/workspaces/{owner.ws}", json={"name": "Via token"}, headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 200 and r.json()["name"] == "Via token"


def test_rehash_on_login_when_parameters_change(server, owner: Api, client_factory) -> None:
    from argon2 import PasswordHasher

    from modelpilot.core.database import connect_sync_for

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    conn = connect_sync_for(server.settings)
    try:
        conn.execute("UPDATE users SET password_hash = ?", (weak,))
        client_factory().login("owner@example.com")
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    finally:
        conn.close()
    assert stored != weak and not HASHER.check_needs_rehash(stored) and "m=19456,t=2,p=1" in stored
