"""A fresh instance cannot be claimed by whoever reaches it first: setup from another machine
needs the token the server printed at start, and with a public URL set the server answers
only for its own host (and loopback names)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.resilience.proc import ServerProcess
from tests.support import PASSWORD, Api

SETUP = "/api/v1/auth/setup"
# A proxy on this machine relays a visitor from elsewhere: the peer is 127.0.0.1, the header is not.
RELAYED = {"X-Forwarded-For": "203.0.113.7"}


def setup_body(**extra) -> dict:
    return {"email": "owner@example.com", "password": PASSWORD, "name": "Owner", "workspace_name": "Acme", **extra}


@pytest.mark.parametrize("headers", [RELAYED, {"Forwarded": "for=203.0.113.7"}, {"X-Real-IP": "203.0.113.7"},
                                     {"Host": "chat.example.com"}])
def test_setup_from_elsewhere_needs_the_printed_token(server, api: Api, headers: dict) -> None:
    assert api.ok("GET", SETUP, headers=headers) == {"needed": True, "token_required": True}
    assert api.ok("GET", "/api/v1/instance", headers=headers)["setup_token_required"] is True
    missing = api.post(SETUP, json=setup_body(), headers=headers)
    assert missing.status_code == 403, missing.text
    assert missing.json()["error"]["code"] == "setup_token_required"
    assert missing.json()["error"]["details"][0]["field"] == "setup_token"
    wrong = api.post(SETUP, json=setup_body(setup_token="guessed-token"), headers=headers)
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "setup_token_invalid"
    assert api.ok("GET", SETUP) == {"needed": True, "token_required": False}, "nothing was created"
    token = server.app.state["setup_token"]
    created = api.post(SETUP, json=setup_body(setup_token=token), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["user"]["is_owner"] is True


def test_trusted_proxy_forwarding_a_remote_client_needs_the_token(server_factory) -> None:
    live = server_factory(trusted_proxies=("127.0.0.1/32",))
    with Api(live.url) as client:
        response = client.post(SETUP, json=setup_body(), headers=RELAYED)
        assert response.status_code == 403 and response.json()["error"]["code"] == "setup_token_required"


def test_setup_on_this_machine_needs_no_token(api: Api) -> None:
    assert api.ok("GET", SETUP) == {"needed": True, "token_required": False}
    assert api.ok("GET", "/api/v1/instance")["setup_token_required"] is False
    assert api.post(SETUP, json=setup_body(), headers={"Host": "localhost"}).status_code == 201


def test_after_setup_the_token_changes_nothing(owner: Api, client_factory) -> None:
    late = client_factory().post(SETUP, json=setup_body(email="late@example.com"), headers=RELAYED)
    assert late.status_code == 409 and late.json()["error"]["code"] == "setup_done"


def test_signup_does_not_take_a_setup_token(server_factory) -> None:
    live = server_factory(open_signup=True)
    with Api(live.url) as owner, Api(live.url) as other:
        owner.setup_owner()
        body = {**setup_body(email="x@example.com"), "setup_token": "anything"}
        response = other.post("/api/v1/auth/signup", json=body)
        assert response.status_code == 400 and "setup_token" in response.json()["error"]["message"]


@pytest.mark.timeout(120)
def test_the_server_prints_a_setup_link_whose_token_works(tmp_path) -> None:
    proc = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    url = proc.start()
    try:
        line = proc.proc.stdout.readline().decode()
        match = re.search(r"(http://\S+)/#/setup\?token=([A-Za-z0-9_-]{24,})", line)
        assert match, line
        token = match.group(2)
        without = httpx.post(url + SETUP, json=setup_body(), headers=RELAYED)
        assert without.status_code == 403
        created = httpx.post(url + SETUP, json=setup_body(setup_token=token), headers=RELAYED)
        assert created.status_code == 201, created.text
    finally:
        proc.kill()


# --- Host check with a public URL ---------------------------------------------------------------

@pytest.fixture
def public(server_factory):
    return server_factory(public_url="https://chat.example.com")


@pytest.mark.parametrize("host", ["203.0.113.7", "203.0.113.7:8000", "evil.example", "chat.example.com.evil.example",
                                  "example.com", "10.0.0.5:8000", ""])
def test_a_foreign_host_is_refused_with_a_public_url(public, host: str) -> None:
    with Api(public.url) as client:
        response = client.get("/api/v1/instance", headers={"Host": host})
        assert response.status_code == 421, response.text
        error = response.json()["error"]
        assert error["code"] == "unknown_host" and "chat.example.com" in error["message"]
        assert "MODELPILOT_PUBLIC_URL" in error["message"]
        assert client.post(SETUP, json=setup_body(), headers={"Host": host}).status_code == 421
        assert client.get("/", headers={"Host": host}).status_code == 421


@pytest.mark.parametrize("host", ["chat.example.com", "CHAT.example.com:443", "localhost", "localhost:8000",
                                  "127.0.0.1", "127.0.0.2:9", "[::1]:8000", "app.localhost"])
def test_the_public_host_and_loopback_names_are_served(public, host: str) -> None:
    with Api(public.url) as client:
        assert client.get("/api/v1/instance", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_health_checks_and_metrics_answer_any_host(public, path: str) -> None:
    with Api(public.url) as client:
        assert client.get(path, headers={"Host": "10.0.0.5:8000"}).status_code == 200


def test_without_a_public_url_any_host_is_served(server) -> None:
    with Api(server.url) as client:
        assert client.get("/api/v1/instance", headers={"Host": "203.0.113.7"}).status_code == 200
