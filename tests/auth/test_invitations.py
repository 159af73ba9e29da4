"""Invitations: one pending per address, none to members, links copied again, revoked, e-mailed."""

from __future__ import annotations

import pytest

from modelpilot.core.database import connect_sync_for
from tests.mail_support import body_of, link_in, smtp_inbox  # noqa: F401 (fixture)
from tests.support import PASSWORD, Api, free_port


def invitations(api: Api) -> str:
    return f"/api/v1/workspaces/{api.ws}/invitations"


def invite(api: Api, email: str, role: str = "viewer"):
    return api.post(invitations(api), json={"email": email, "role": role})


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


@pytest.mark.parametrize("again", ["new@example.com", "NEW@Example.com", "  new@example.com "])
def test_second_invitation_to_a_pending_address_is_refused(owner: Api, again: str) -> None:
    first = owner.ok("POST", invitations(owner), json={"email": "new@example.com", "role": "viewer"})
    response = invite(owner, again, "admin")
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "invitation_pending" and error["details"][0]["field"] == "email"
    pending = [i for i in owner.ok("GET", invitations(owner)) if i["status"] == "pending"]
    assert [(i["id"], i["role"]) for i in pending] == [(first["id"], "viewer")], "the first one is unchanged"


def test_inviting_a_member_is_refused(owner: Api, client_factory) -> None:
    owner.invite_and_join(client_factory(), "member@example.com", "editor")
    for email in ("member@example.com", "owner@example.com"):
        response = invite(owner, email)
        assert response.status_code == 409 and response.json()["error"]["code"] == "already_member"
        assert response.json()["error"]["details"][0]["field"] == "email"


def test_after_revoking_or_expiry_the_address_can_be_invited_again(server, owner: Api, client_factory) -> None:
    first = owner.ok("POST", invitations(owner), json={"email": "new@example.com"})
    assert owner.delete(f"{invitations(owner)}/{first['id']}").status_code == 204
    dead = client_factory().get(f"/api/v1/invitations/{token_of(first['accept_url'])}")
    assert dead.status_code == 404, "a revoked link stops working"
    second = owner.ok("POST", invitations(owner), json={"email": "new@example.com", "role": "editor"})
    conn = connect_sync_for(server.settings)
    conn.execute("UPDATE invitations SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", (second["id"],))
    conn.close()
    listed = {i["id"]: i for i in owner.ok("GET", invitations(owner))}
    assert listed[second["id"]]["status"] == "expired" and listed[second["id"]]["accept_url"] is None
    third = owner.ok("POST", invitations(owner), json={"email": "new@example.com", "role": "admin"})
    assert [i["id"] for i in owner.ok("GET", invitations(owner))] == [third["id"]], "the expired one is replaced"


def test_pending_links_can_be_copied_again_and_work(server, owner: Api, client_factory) -> None:
    created = owner.ok("POST", invitations(owner), json={"email": "new@example.com", "role": "editor"})
    assert created["emailed"] is False and created["status"] == "pending"
    listed = owner.ok("GET", invitations(owner))
    assert listed[0]["accept_url"] == created["accept_url"]
    conn = connect_sync_for(server.settings)
    sealed = conn.execute("SELECT token_sealed FROM invitations").fetchone()[0]
    conn.close()
    assert token_of(created["accept_url"]) not in sealed, "the token is stored sealed, not as it is"
    joiner = client_factory()
    body = joiner.ok("POST", f"/api/v1/invitations/{token_of(listed[0]['accept_url'])}/accept",
                     json={"email": "new@example.com", "password": PASSWORD, "name": "New"})
    assert body["workspaces"][0]["role"] == "editor"
    after = owner.ok("GET", invitations(owner))
    assert after[0]["status"] == "accepted" and after[0]["accept_url"] is None, "a used link is not offered again"


def test_a_sealed_link_does_not_open_for_another_invitation(server, owner: Api) -> None:
    first = owner.ok("POST", invitations(owner), json={"email": "one@example.com"})
    second = owner.ok("POST", invitations(owner), json={"email": "two@example.com"})
    conn = connect_sync_for(server.settings)
    conn.execute("UPDATE invitations SET token_sealed = (SELECT token_sealed FROM invitations WHERE id = ?)"
                 " WHERE id = ?", (first["id"], second["id"]))
    conn.close()
    listed = {i["id"]: i["accept_url"] for i in owner.ok("GET", invitations(owner))}
    assert listed == {first["id"]: first["accept_url"], second["id"]: None}


def test_only_admins_see_links(owner: Api, client_factory) -> None:
    editor = client_factory()
    owner.invite_and_join(editor, "editor@example.com", "editor")
    owner.ok("POST", invitations(owner), json={"email": "new@example.com"})
    assert editor.get(invitations(owner)).status_code == 403
    assert editor.post(invitations(owner), json={"email": "x@example.com"}).status_code == 403


def test_invitation_is_emailed_with_a_working_link(server_factory, smtp_inbox) -> None:
    live = server_factory(**smtp_inbox.settings())
    with Api(live.url) as owner, Api(live.url) as joiner:
        owner.setup_owner()
        owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}", json={"name": "Acme\r\nBcc: evil@example.com"})
        created = owner.ok("POST", invitations(owner), json={"email": "new@example.com", "role": "editor"})
        assert created["emailed"] is True and created["email_error"] is None
        message = smtp_inbox.wait_for(1)[0]
        assert message["To"] == "new@example.com"
        assert "Bcc" not in message and "\n" not in message["Subject"], "names cannot add headers"
        assert "Owner (owner@example.com)" in body_of(message) and "editor" in body_of(message)
        assert link_in(message) == created["accept_url"]
        body = joiner.ok("POST", f"/api/v1/invitations/{token_of(link_in(message))}/accept",
                         json={"email": "new@example.com", "password": PASSWORD, "name": "New"})
        assert body["workspaces"][0]["id"] == owner.ws
        assert smtp_inbox.envelopes[0][1] == ["new@example.com"]


def test_unreachable_mail_server_is_reported_and_the_link_still_works(server_factory) -> None:
    closed_port = free_port()  # nothing listens here
    live = server_factory(smtp_host="127.0.0.1", smtp_port=closed_port, smtp_security="none")
    with Api(live.url) as owner:
        owner.setup_owner()
        created = owner.ok("POST", invitations(owner), json={"email": "new@example.com"})
        assert created["emailed"] is False and "cannot reach the mail server" in created["email_error"]
        assert owner.ok("GET", f"/api/v1/invitations/{token_of(created['accept_url'])}")["email"] == "new@example.com"
