"""The contacts API: search and pages, add and edit (agents), delete with the conversations
(admins, audited), the spreadsheet-safe CSV export, and the workspace's deletion and retention."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.contacts.support import chat, lead_bot, send_lead
from tests.ops.test_privacy import message_rows, run_retention
from tests.ops.test_workspace_erasure import leftovers
from tests.support import Api


@pytest.fixture(scope="module")
def server(roomy_server):
    return roomy_server


@pytest.fixture(scope="module")
def owner(roomy_owner):
    return roomy_owner


def contacts_url(ws: str, rest: str = "") -> str:
    return f"/api/v1/workspaces/{ws}/contacts{rest}"


def test_search_and_cursor_pages(owner):
    ws = owner.ok("POST", "/api/v1/workspaces", json={"name": "Paging"})["id"]
    for i in range(5):
        owner.ok("POST", contacts_url(ws), 201, json={"name": f"Person {i}", "email": f"p{i}@example.com",
                                                      "company": "Acme 100%" if i == 3 else "Other_Co"})
    first = owner.ok("GET", contacts_url(ws), params={"limit": 2})
    assert [c["name"] for c in first["items"]] == ["Person 4", "Person 3"] and first["next_cursor"]
    second = owner.ok("GET", contacts_url(ws), params={"limit": 2, "cursor": first["next_cursor"]})
    third = owner.ok("GET", contacts_url(ws), params={"limit": 2, "cursor": second["next_cursor"]})
    assert [c["name"] for c in second["items"] + third["items"]] == ["Person 2", "Person 1", "Person 0"]
    assert third["next_cursor"] is None
    assert [c["name"] for c in owner.ok("GET", contacts_url(ws), params={"q": "ACME 100%"})["items"]] == ["Person 3"]
    assert [c["name"] for c in owner.ok("GET", contacts_url(ws), params={"q": "P2@EXAMPLE"})["items"]] == ["Person 2"]
    assert owner.ok("GET", contacts_url(ws), params={"q": "%"})["items"][0]["name"] == "Person 3"  # literal %
    bad = owner.get(contacts_url(ws), params={"cursor": "!!"})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "cursor"


def test_create_and_edit_rules(owner, server):
    made = owner.ok("POST", contacts_url(owner.ws), 201, json={"email": "Dup@Example.com", "name": "Dup"})
    assert made["email"] == "dup@example.com" and made["verified"] is False and made["conversation_count"] == 0
    assert made["last_seen_at"] is None and made["external_id"] is None
    taken = owner.post(contacts_url(owner.ws), json={"email": "dup@example.com"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "contact_exists"
    other = owner.ok("POST", contacts_url(owner.ws), 201, json={"name": "Other"})
    clash = owner.patch(contacts_url(owner.ws, f"/{other['id']}"), json={"email": "dup@example.com"})
    assert clash.status_code == 409
    bad = owner.post(contacts_url(owner.ws), json={"email": "nope", "phone": "abc"})
    assert bad.status_code == 400
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"email", "phone"}
    empty = owner.post(contacts_url(owner.ws), json={"phone": "+1 555 0100"})
    assert empty.status_code == 400 and empty.json()["error"]["details"][0]["field"] == "email"


def test_agent_edits_viewer_reads_only_admin_deletes(owner, server):
    agent, viewer = Api(server.url), Api(server.url)
    owner.invite_and_join(agent, f"agent{time.time_ns()}@example.com", "agent")
    owner.invite_and_join(viewer, f"viewer{time.time_ns()}@example.com", "viewer")
    contact = owner.ok("POST", contacts_url(owner.ws), 201, json={"name": "Role test", "company": "Roles Ltd"})
    path = contacts_url(owner.ws, f"/{contact['id']}")
    edited = agent.ok("PATCH", path, json={"phone": "+49 30 123456", "fields": {"order_number": "A-17"}})
    assert edited["phone"] == "+49 30 123456" and edited["fields"] == {"order_number": "A-17"}
    assert agent.ok("POST", contacts_url(owner.ws), 201, json={"name": "Added by agent"})["name"] == "Added by agent"
    assert viewer.ok("GET", path)["company"] == "Roles Ltd"
    assert viewer.patch(path, json={"name": "x"}).status_code == 403
    assert viewer.get(contacts_url(owner.ws, "/export")).status_code == 403
    assert agent.delete(path).status_code == 403
    assert owner.delete(path).status_code == 204
    assert owner.get(path).status_code == 404


def test_delete_erases_conversations_and_is_audited(owner, server):
    bot = lead_bot(owner)
    visitor = Api(server.url)
    session = "erase-session-aaaaaaaaaaaaaaaa"
    conversation = chat(visitor, bot["id"], session, "Please forget me later")[-1]["conversation_id"]
    contact_id = send_lead(visitor, bot["id"], session, {"name": "Gone", "email": "gone@example.com"}).json()[
        "contact_id"]
    chat(visitor, bot["id"], session, "A second message")
    assert message_rows(server.settings, conversation)[0] == 4
    assert owner.delete(contacts_url(owner.ws, f"/{contact_id}")).status_code == 204
    assert owner.get(f"/api/v1/workspaces/{owner.ws}/conversations/{conversation}").status_code == 404
    assert message_rows(server.settings, conversation) == (0, 0)  # the full-text rows went too
    entries = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/audit-log")
    [entry] = [e for e in entries if e["action"] == "contact.deleted" and e["target_id"] == contact_id]
    assert entry["details"] == {"conversations": 1, "messages": 4}
    assert "gone@example.com" not in str(entry)
    # The session starts afresh: a new message is an anonymous conversation again.
    assert chat(visitor, bot["id"], session, "Hello again")[-1]["done"]


def test_csv_export_neutralises_formula_cells(owner):
    ws = owner.ok("POST", "/api/v1/workspaces", json={"name": "Export"})["id"]
    evil = {"name": "=HYPERLINK(\"http://evil\")", "company": "+cmd|' /C calc'!A0", "phone": "-1 555 0100",
            "email": "x@example.com", "fields": {"note": "@SUM(1+1)", "tab": "\tstarts with a tab",
                                                 "cr": "\rstarts with CR"}}
    owner.ok("POST", contacts_url(ws), 201, json={**evil, "phone": "+1 555 0100"})
    owner.ok("POST", contacts_url(ws), 201, json={"name": "Plain Person", "email": "plain@example.com"})
    response = owner.get(contacts_url(ws, "/export"), params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="contacts.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "email", "name", "phone", "company", "verified", "created_at", "last_seen_at",
                       "conversations", "fields"]
    by_email = {row[1]: dict(zip(rows[0], row)) for row in rows[1:]}
    bad = by_email["x@example.com"]
    assert bad["name"] == "'=HYPERLINK(\"http://evil\")" and bad["company"] == "'+cmd|' /C calc'!A0"
    assert bad["phone"] == "'+1 555 0100" and bad["verified"] == "false" and bad["conversations"] == "0"
    assert by_email["plain@example.com"]["name"] == "Plain Person"
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


def test_workspace_deletion_and_retention_leave_no_contacts(owner, server):
    doomed = owner.ok("POST", "/api/v1/workspaces", json={"name": "Doomed contacts"})["id"]
    owner.ok("POST", contacts_url(doomed), 201, json={"name": "zqdoomedmarker", "email": "zqdoomed@example.com"})
    assert leftovers(server.settings, {"zqdoomedmarker"})
    owner.ok("DELETE", f"/api/v1/workspaces/{doomed}", status=204)
    assert leftovers(server.settings, {"zqdoomedmarker", "zqdoomed@example.com"}) == []

    strict = owner.ok("POST", "/api/v1/workspaces", json={"name": "Strict"})["id"]
    owner.ok("PATCH", f"/api/v1/workspaces/{strict}", json={"settings": {"retention_days": 30}})
    bot = owner.create_bot(strict, name="Strict bot", published=True, lead_form={"enabled": True})
    visitor = Api(server.url)
    chat(visitor, bot["id"], "retention-session-aaaaaaaaaaaa", "hello")
    lead = send_lead(visitor, bot["id"], "retention-session-aaaaaaaaaaaa", {"email": "zqexpired@example.com"})
    assert lead.status_code == 201, lead.text
    kept = owner.ok("POST", contacts_url(strict), 201, json={"name": "Entered by hand"})
    run_retention(server.settings, now=time.time() + 31 * 86400)
    names = [c["name"] or c["email"] for c in owner.ok("GET", contacts_url(strict))["items"]]
    assert names == ["Entered by hand"] and kept["id"]
    assert leftovers(server.settings, {"zqexpired@example.com"}) == []
