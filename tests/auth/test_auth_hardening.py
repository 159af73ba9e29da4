"""Accounts under attack by one ordinary account: invitations meant for others, parallel
password guessing, login CSRF, a stray Authorization header, and unlimited workspaces."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import PASSWORD, Api

LOGIN = "/api/v1/auth/login"


def invite(admin: Api, email: str, role: str = "admin") -> str:
    invitation = admin.ok("POST", f"/api/v1/workspaces/{admin.ws}/invitations", json={"email": email, "role": role})
    return invitation["accept_url"].rsplit("/", 1)[1]


def member_emails(admin: Api) -> set[str]:
    return {m["email"] for m in admin.ok("GET", f"/api/v1/workspaces/{admin.ws}/members")}


# --- invitations belong to the address they were sent to -------------------------------------

def test_a_logged_in_outsider_cannot_take_someone_elses_invitation(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as owner, Api(live.url) as outsider, Api(live.url) as friend:
        owner.setup_owner()
        outsider.signup("outsider@example.com")
        token = invite(owner, "friend@example.com", "admin")
        taken = outsider.post(f"/api/v1/invitations/{token}/accept")
        assert taken.status_code == 403, taken.text
        error = taken.json()["error"]
        assert error["code"] == "invitation_for_another_email"
        assert "friend@example.com" in error["message"] and "outsider@example.com" in error["message"]
        assert "outsider@example.com" not in member_emails(owner)
        # The refused attempt did not use the invitation up: the invited person still can.
        body = {"email": "friend@example.com", "password": PASSWORD, "name": "Friend"}
        assert friend.post(f"/api/v1/invitations/{token}/accept", json=body).status_code == 201
        assert "friend@example.com" in member_emails(owner)


def test_a_logged_in_user_accepts_an_invitation_sent_to_their_address(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as owner, Api(live.url) as invited:
        owner.setup_owner()
        invited.signup("invited@example.com")
        token = invite(owner, "Invited@Example.com", "editor")
        joined = invited.ok("POST", f"/api/v1/invitations/{token}/accept")
        assert {w["name"]: w["role"] for w in joined["workspaces"]}["Acme"] == "editor"


# --- login throttling holds under concurrency -------------------------------------------------

async def _parallel_logins(base_url: str, bodies: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        return await asyncio.gather(*(client.post(LOGIN, json=body) for body in bodies))


@pytest.mark.timeout(180)
def test_two_hundred_parallel_guesses_check_at_most_the_account_limit(server, owner: Api) -> None:
    bodies = [{"email": "owner@example.com", "password": f"wrong guess number {i}"} for i in range(200)]
    responses = asyncio.run(_parallel_logins(server.url, bodies))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5, f"{statuses.count(401)} passwords were checked, the limit is 5"
    assert statuses.count(429) >= 195
    # The right password now meets the lock too: parallel guessing bought nothing.
    with Api(server.url) as late:
        assert late.post(LOGIN, json={"email": "owner@example.com", "password": PASSWORD}).status_code == 429


@pytest.mark.timeout(180)
def test_parallel_guesses_across_accounts_respect_the_address_limit(server, owner: Api) -> None:
    bodies = [{"email": f"user{i}@example.com", "password": "wrong guess here"} for i in range(100)]
    statuses = [r.status_code for r in asyncio.run(_parallel_logins(server.url, bodies))]
    assert statuses.count(401) <= 10 and statuses.count(429) >= 90, statuses


def test_a_successful_login_does_not_use_up_the_address_allowance(owner: Api, client_factory) -> None:
    for _ in range(12):
        client_factory().login("owner@example.com")


# --- login CSRF: session-granting routes refuse cross-site requests and non-JSON bodies -------

SESSION_ROUTES = ["/api/v1/auth/login", "/api/v1/auth/signup", "/api/v1/auth/setup",
                  "/api/v1/invitations/some-token/accept"]


@pytest.mark.parametrize("path", SESSION_ROUTES)
@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.example"}])
def test_session_routes_refuse_cross_site_requests_without_a_cookie(api: Api, path: str, headers: dict) -> None:
    response = api.post(path, json={"email": "a@example.com", "password": PASSWORD}, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "csrf_refused"
    assert "mp_session" not in response.headers.get("set-cookie", "")


def test_a_cross_site_text_plain_form_cannot_log_the_victim_in(owner: Api, client_factory) -> None:
    victim = client_factory()
    # What <form enctype="text/plain"> with one field named '{"email":"owner@example.com","password":"' sends.
    form_body = '{"email":"owner@example.com","password":"' + PASSWORD + '","x":"="}'
    forged = victim.post(LOGIN, content=form_body, headers={"Content-Type": "text/plain", "Origin": "https://evil.example",
                                                          "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "mp_session" not in victim.cookies
    # Even where a browser sent no origin headers, a text/plain body is not taken as JSON.
    plain = victim.post(LOGIN, content=form_body, headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415, plain.text
    assert plain.json()["error"]["code"] == "unsupported_media_type"
    assert plain.json()["error"]["details"][0]["field"] == "content-type"
    assert "mp_session" not in victim.cookies


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_json_routes_take_only_json_bodies(owner: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = owner.post("/api/v1/workspaces", content=b'{"name": "Sneaky"}', headers=headers)
    assert response.status_code == 415, response.text
    assert "Sneaky" not in {w["name"] for w in owner.ok("GET", "/api/v1/workspaces")}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_with_parameters_or_any_case_is_accepted(owner: Api, content_type: str) -> None:
    response = owner.post("/api/v1/workspaces", content=b'{"name": "Fine"}', headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


def test_a_bodyless_accept_needs_no_content_type(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as owner, Api(live.url) as invited:
        owner.setup_owner()
        invited.signup("invited@example.com")
        token = invite(owner, "invited@example.com", "viewer")
        assert invited.post(f"/api/v1/invitations/{token}/accept", headers={"Content-Type": "text/plain"}).status_code == 200


# --- only an API token exempts a cookie request from the CSRF check ---------------------------

@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer not-a-modelpilot-token", "Token abc", "mp_abc"])
def test_a_foreign_authorization_header_does_not_skip_the_csrf_check(owner: Api, authorization: str) -> None:
    response = owner.post("/api/v1/workspaces", json={"name": "Forged"},
                          headers={"Authorization": authorization, "Origin": "https://evil.example"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "csrf_refused"
    assert "Forged" not in {w["name"] for w in owner.ok("GET", "/api/v1/workspaces")}


# --- workspaces one user may create -----------------------------------------------------------

def test_workspaces_per_user_are_limited_but_not_for_the_instance_owner(server_factory) -> None:
    live = server_factory(open_signup=True, max_workspaces_per_user=3)
    with Api(live.url) as owner, Api(live.url) as user:
        owner.setup_owner()
        user.signup("user@example.com", "First")
        for name in ("Second", "Third"):
            user.ok("POST", "/api/v1/workspaces", json={"name": name})
        refused = user.post("/api/v1/workspaces", json={"name": "Fourth"})
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "workspace_limit" and "3" in error["message"]
        assert "MODELPILOT_MAX_WORKSPACES_PER_USER" in error["message"]
        assert len(user.ok("GET", "/api/v1/workspaces")) == 3
        # Deleting one frees its place.
        third = next(w for w in user.ok("GET", "/api/v1/workspaces") if w["name"] == "Third")
        user.ok("DELETE", f"/api/v1/workspaces/{third['id']}")
        user.ok("POST", "/api/v1/workspaces", json={"name": "Fourth"})
        for i in range(5):
            owner.ok("POST", "/api/v1/workspaces", json={"name": f"Client {i}"})


def test_joining_other_workspaces_does_not_count_against_the_limit(server_factory) -> None:
    live = server_factory(open_signup=True, max_workspaces_per_user=1)
    with Api(live.url) as owner, Api(live.url) as user:
        owner.setup_owner()
        user.signup("user@example.com", "Mine")
        user.ok("POST", f"/api/v1/invitations/{invite(owner, 'user@example.com')}/accept")
        assert len(user.ok("GET", "/api/v1/workspaces")) == 2
        assert user.post("/api/v1/workspaces", json={"name": "Another"}).status_code == 403


@pytest.mark.timeout(120)
def test_parallel_creation_cannot_pass_the_workspace_limit(server_factory) -> None:
    live = server_factory(open_signup=True, max_workspaces_per_user=3)
    with Api(live.url) as user:
        user.signup("user@example.com", "First")
        cookie = user.cookies.get("mp_session")

        async def create_many() -> list[int]:
            async with httpx.AsyncClient(base_url=live.url, cookies={"mp_session": cookie}, timeout=60) as client:
                responses = await asyncio.gather(*(client.post("/api/v1/workspaces", json={"name": f"W{i}"})
                                                   for i in range(20)))
            return [r.status_code for r in responses]

        statuses = asyncio.run(create_many())
        assert statuses.count(201) == 2 and statuses.count(403) == 18, statuses
        assert len(user.ok("GET", "/api/v1/workspaces")) == 3
