"""A user's own account: name, password change, sessions, and password reset (CLI and e-mail)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modelpilot.core.database import connect_sync_for
from tests.mail_support import link_in, smtp_inbox  # noqa: F401 (fixture)
from tests.support import PASSWORD, Api, database_args

NEW_PASSWORD = "another fine passphrase"
ME = "/api/v1/auth/me"
RESET = "/api/v1/auth/password-reset"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPILOT_")}
    return subprocess.run([sys.executable, "-m", "modelpilot", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def second_session(server, email: str = "owner@example.com", password: str = PASSWORD) -> Api:
    other = Api(server.url)
    other.login(email, password)
    return other


def cli_reset_token(server, email: str = "owner@example.com") -> str:
    result = run_cli("reset-password", email, "--data-dir", str(server.settings.data_dir), "--public-url", server.url,
                     *database_args(server.settings))
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{server.url}/#/reset/")
    return link.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "n" * 201}, "name"), ({"name": 5}, "name"),
     ({}, "name"), ({"name": "x", "email": "evil@example.com"}, "email")],
)
def test_rename_refuses_bad_names_naming_the_field(owner: Api, body: dict, field: str) -> None:
    response = owner.patch(ME, json=body)
    assert response.status_code == 400, response.text
    assert field in str(response.json()["error"]["details"])
    assert owner.ok("GET", ME)["user"]["name"] == "Owner"


def test_rename_changes_the_name_everywhere(owner: Api, client_factory) -> None:
    body = owner.ok("PATCH", ME, json={"name": "  Olivia Owner "})
    assert body["user"]["name"] == "Olivia Owner" and body["workspaces"]
    members = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/members")
    assert members[0]["name"] == "Olivia Owner"
    assert client_factory().patch(ME, json={"name": "Anonymous"}).status_code == 401


def test_password_change_needs_the_current_one_and_ends_other_sessions(server, owner: Api) -> None:
    other = second_session(server)
    wrong = owner.post("/api/v1/auth/password", json={"current_password": "not it at all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["field"] == "current_password"
    weak = owner.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "password"})
    assert weak.status_code == 400 and weak.json()["error"]["details"][0]["field"] == "new_password"
    same = owner.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 400 and same.json()["error"]["details"][0]["field"] == "new_password"
    assert other.get(ME).status_code == 200, "refused changes end nothing"

    changed = owner.ok("POST", "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed == {"ok": True, "sessions_ended": 1}
    assert other.get(ME).status_code == 401, "the other session must end"
    assert owner.get(ME).status_code == 200, "the session that changed it stays"
    with Api(server.url) as fresh:
        assert fresh.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 401
        fresh.login("owner@example.com", NEW_PASSWORD)
    other.close()


def test_wrong_current_passwords_are_throttled(owner: Api) -> None:
    for _ in range(5):
        owner.post("/api/v1/auth/password", json={"current_password": "guess guess guess", "new_password": NEW_PASSWORD})
    blocked = owner.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_sign_out_other_sessions(server, owner: Api) -> None:
    others = [second_session(server), second_session(server)]
    sessions = owner.ok("GET", "/api/v1/auth/sessions")
    assert len(sessions) == 3 and [s["current"] for s in sessions].count(True) == 1
    assert owner.ok("DELETE", "/api/v1/auth/sessions") == {"sessions_ended": 2}
    for other in others:
        assert other.get(ME).status_code == 401
        other.close()
    assert owner.get(ME).status_code == 200
    assert [s["current"] for s in owner.ok("GET", "/api/v1/auth/sessions")] == [True]


def test_cli_link_resets_once_ends_every_session_and_logs_in(server, owner: Api, client_factory) -> None:
    token = cli_reset_token(server)
    assert len(token) >= 43, "at least 256 bits"
    conn = connect_sync_for(server.settings)
    stored = conn.execute("SELECT token_hash FROM password_resets").fetchall()
    conn.close()
    assert len(stored) == 1 and token not in stored[0][0], "only a hash is stored"

    visitor = client_factory()
    assert visitor.ok("GET", f"{RESET}/{token}")["email"] == "owner@example.com"
    weak = visitor.post(f"{RESET}/{token}", json={"password": "12345678"})
    assert weak.status_code == 400 and weak.json()["error"]["details"][0]["field"] == "password"
    body = visitor.ok("POST", f"{RESET}/{token}", json={"password": NEW_PASSWORD})
    assert body["user"]["email"] == "owner@example.com"
    assert visitor.get(ME).status_code == 200, "the reset logs in"
    assert owner.get(ME).status_code == 401, "every earlier session ends"
    again = client_factory().post(f"{RESET}/{token}", json={"password": "yet another passphrase"})
    assert again.status_code == 404 and again.json()["error"]["code"] == "reset_link_invalid"
    client_factory().login("owner@example.com", NEW_PASSWORD)


def test_unknown_email_on_the_cli_says_so(server, owner: Api) -> None:
    result = run_cli("reset-password", "nobody@example.com", "--data-dir", str(server.settings.data_dir),
                     *database_args(server.settings))
    assert result.returncode == 1 and "no account" in result.stderr


def test_expired_link_is_refused(server, owner: Api, client_factory) -> None:
    token = cli_reset_token(server)
    conn = connect_sync_for(server.settings)
    conn.execute("UPDATE password_resets SET expires_at = '2000-01-01T00:00:00.000Z'")
    conn.close()
    expired = client_factory().post(f"{RESET}/{token}", json={"password": NEW_PASSWORD})
    assert expired.status_code == 410 and expired.json()["error"]["code"] == "reset_link_expired"
    client_factory().login("owner@example.com")


def test_password_change_voids_reset_links(server, owner: Api, client_factory) -> None:
    token = cli_reset_token(server)
    owner.ok("POST", "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert client_factory().post(f"{RESET}/{token}", json={"password": "yet another passphrase"}).status_code == 404


def test_forgot_password_mails_a_working_link_and_never_reveals_accounts(server_factory, smtp_inbox) -> None:
    live = server_factory(**smtp_inbox.settings())
    with Api(live.url) as owner, Api(live.url) as visitor:
        owner.setup_owner()
        unknown = visitor.post(RESET, json={"email": "nobody@example.com"})
        known = visitor.post(RESET, json={"email": "Owner@Example.com "})
        assert unknown.status_code == known.status_code == 202
        assert unknown.json() == known.json()
        message = smtp_inbox.wait_for(1)[0]
        assert message["To"] == "owner@example.com" and "password" in message["Subject"].lower()
        assert message["From"] == "ModelPilot <noreply@example.com>"
        link = link_in(message)
        assert link.startswith(f"{live.url}/#/reset/")
        body = visitor.ok("POST", f"{RESET}/{link.rsplit('/', 1)[1]}", json={"password": NEW_PASSWORD})
        assert body["user"]["email"] == "owner@example.com"
        assert owner.get(ME).status_code == 401
        assert smtp_inbox.envelopes == [("noreply@example.com", ["owner@example.com"])], "nothing for the unknown address"


def test_reset_requests_are_throttled(server_factory, smtp_inbox) -> None:
    live = server_factory(**smtp_inbox.settings())
    with Api(live.url) as owner:
        owner.setup_owner()
        for _ in range(4):
            assert owner.post(RESET, json={"email": "owner@example.com"}).status_code == 202
        smtp_inbox.wait_for(3)
        conn = connect_sync_for(live.settings)
        assert conn.execute("SELECT COUNT(*) FROM password_resets").fetchone()[0] == 3, "3 mails an hour per address"
        conn.close()
        for _ in range(6):
            owner.post(RESET, json={"email": "someone@example.com"})
        blocked = owner.post(RESET, json={"email": "owner@example.com"})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_without_smtp_the_form_sends_nothing(owner: Api, server) -> None:
    assert owner.post(RESET, json={"email": "owner@example.com"}).status_code == 202
    conn = connect_sync_for(server.settings)
    assert conn.execute("SELECT COUNT(*) FROM password_resets").fetchone()[0] == 0
    conn.close()
    assert owner.ok("GET", "/api/v1/instance")["email_enabled"] is False


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": "x" * 201}, {"email": "a@b.c", "extra": 1}])
def test_bad_reset_requests_are_400s(api: Api, body: dict) -> None:
    assert api.post(RESET, json=body).status_code == 400
