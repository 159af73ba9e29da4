"""The lead form from the widget's side: per-field validation, merging by e-mail, linking the
session's conversation, and when the server asks for the form (never of a known contact)."""

from __future__ import annotations

import pytest

from tests.contacts.support import chat, history, lead_bot, send_lead
from tests.support import Api
from tests.widget_support import from_page


@pytest.fixture(scope="module")
def server(roomy_server):
    return roomy_server


@pytest.fixture(scope="module")
def owner(roomy_owner):
    return roomy_owner

S1 = "lead-session-aaaaaaaaaaaaaaaa"
S2 = "lead-session-bbbbbbbbbbbbbbbb"


def test_config_shows_the_form_and_defaults(owner, server):
    bot = lead_bot(owner)
    assert bot["lead_form"]["fields"][3]["options"] == ["Basic", "Pro"] and bot["visitor_context"] is False
    assert bot["identity"] == {"configured": False, "created_at": None}
    plain = owner.create_bot(owner.ws, name="No form", published=True)
    assert plain["lead_form"]["enabled"] is False and plain["lead_form"]["fields"][0]["name"] == "email"
    visitor = Api(server.url)
    config = visitor.get(f"/api/v1/widget/{bot['id']}/config", headers=from_page()).json()
    assert config["leadForm"]["when"] == "before_chat" and config["leadForm"]["afterMessages"] == 2
    assert config["leadForm"]["consentText"] == "I agree to be contacted."
    assert config["leadForm"]["privacyUrl"] == "https://shop.example.com/privacy"
    assert [f["name"] for f in config["leadForm"]["fields"]] == ["name", "email", "phone", "plan"]
    assert visitor.get(f"/api/v1/widget/{plain['id']}/config", headers=from_page()).json()["leadForm"] is None


def test_bad_lead_form_settings_name_their_paths(owner):
    form = {"enabled": True, "when": "after_messages", "after_messages": 3, "privacy_url": "javascript:alert(1)",
            "fields": [{"name": "email", "label": "Email", "type": "email"},
                       {"name": "plan", "label": "Plan", "type": "select", "options": []},
                       {"name": "email", "label": "", "type": "text"},
                       {"name": "Bad Name", "label": "x", "type": "text"}]}
    response = owner.post(f"/api/v1/workspaces/{owner.ws}/chatbots", json={"name": "Broken", "lead_form": form})
    assert response.status_code == 400, response.text
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"lead_form.fields[1].options", "lead_form.fields[2].name", "lead_form.fields[2].label",
            "lead_form.fields[3].name", "lead_form.privacy_url"} <= fields


def test_every_bad_field_in_one_400(owner, server):
    bot = lead_bot(owner)
    visitor = Api(server.url)
    response = send_lead(visitor, bot["id"], S1, {"email": "not-an-address", "phone": "12", "plan": "Gold",
                                                  "shoe_size": "44"}, consent=False)
    assert response.status_code == 400, response.text
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert set(details) == {"fields.name", "fields.email", "fields.phone", "fields.plan", "fields.shoe_size", "consent"}
    assert details["fields.name"] == "Your name is required."
    assert "e-mail address" in details["fields.email"] and "6-20 digits" in details["fields.phone"]
    assert "Basic, Pro" in details["fields.plan"]
    assert response.headers["access-control-allow-origin"] == "https://shop.example.com"


def test_lead_merges_by_email_and_links_the_conversation(owner, server):
    bot = lead_bot(owner)
    first, second = Api(server.url), Api(server.url)
    chat(first, bot["id"], S1, "Hello, do you sell gift cards?")
    made = send_lead(first, bot["id"], S1, {"name": "Ada", "email": "Ada@Example.com", "phone": "+44 (20) 7946-0958"})
    assert made.status_code == 201, made.text
    contact_id = made.json()["contact_id"]
    again = send_lead(second, bot["id"], S2, {"name": "Ada Lovelace", "email": "ada@example.com", "plan": "Pro"})
    assert again.status_code == 201 and again.json()["contact_id"] == contact_id
    contact = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/contacts/{contact_id}")
    assert contact["email"] == "ada@example.com" and contact["name"] == "Ada Lovelace"
    assert contact["phone"] == "+44 (20) 7946-0958" and contact["fields"] == {"plan": "Pro"}
    assert contact["verified"] is False and contact["last_seen_at"]
    [conversation] = contact["conversations"]
    assert conversation["chatbot_id"] == bot["id"] and conversation["chatbot_name"] == "Lead bot"
    assert conversation["channel"] == "widget" and conversation["message_count"] == 2
    listed = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations", params={"chatbot_id": bot["id"]})
    assert listed["items"][0]["contact"] == {"id": contact_id, "name": "Ada Lovelace", "email": "ada@example.com"}
    detail = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}")
    assert detail["contact"]["id"] == contact_id
    # The second session's later conversation belongs to the contact from its first message.
    chat(second, bot["id"], S2, "Which plan suits a small shop?")
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/contacts/{contact_id}")["conversation_count"] == 2


def test_known_contact_is_never_asked_again(owner, server):
    bot = lead_bot(owner, when="when_unanswered")  # no knowledge: every answer is unanswered
    visitor = Api(server.url)
    session = "lead-session-known-cccccccccc"
    before = chat(visitor, bot["id"], session, "What does shipping cost?")[-1]
    assert before["done"] and before["lead_form"] is True
    assert history(visitor, bot["id"], session).json()["contact"] is None
    assert send_lead(visitor, bot["id"], session, {"name": "Bo", "email": "bo@example.com"}).status_code == 201
    after = chat(visitor, bot["id"], session, "And to Norway?")[-1]
    assert after["done"] and "lead_form" not in after
    shown = history(visitor, bot["id"], session).json()
    assert shown["contact"]["email"] == "bo@example.com" and shown["contact"]["verified"] is False
    assert shown["session_id"] == session


def test_after_messages_trigger(owner, server):
    bot = lead_bot(owner, when="after_messages")  # after 2 visitor messages
    visitor = Api(server.url)
    session = "lead-session-after-dddddddddd"
    assert "lead_form" not in chat(visitor, bot["id"], session, "First question")[-1]
    assert chat(visitor, bot["id"], session, "Second question")[-1]["lead_form"] is True


def test_on_handoff_outside_hours_asks_for_the_form(owner, server):
    closed = {"timezone": "UTC", "weekly": {}}  # never open
    bot = lead_bot(owner, when="on_handoff", handoff={"enabled": True, "hours": closed})
    visitor = Api(server.url)
    reply = visitor.post(f"/api/v1/widget/{bot['id']}/handoff", headers=from_page(),
                         json={"session_id": "lead-session-handoff-eeeeeee"})
    assert reply.status_code == 200 and reply.json()["status"] == "offline" and reply.json()["lead_form"] is True


def test_disabled_form_refuses_leads(owner, server):
    bot = owner.create_bot(owner.ws, name="No form bot", published=True)
    response = send_lead(Api(server.url), bot["id"], S1, {"email": "x@example.com"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "lead_form_disabled"



def test_inbox_items_and_handoff_webhooks_show_the_contact(owner, server):
    bot = lead_bot(owner, handoff={"enabled": True})  # always open
    visitor = Api(server.url)
    session = "lead-session-inbox-ffffffffff"
    contact_id = send_lead(visitor, bot["id"], session, {"name": "Ivy", "email": "ivy@example.com"}).json()[
        "contact_id"]
    reply = visitor.post(f"/api/v1/widget/{bot['id']}/handoff", headers=from_page(), json={"session_id": session})
    assert reply.json()["status"] == "waiting" and "lead_form" not in reply.json()
    items = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/inbox", params={"status": "waiting"})["items"]
    [item] = [i for i in items if i["chatbot_id"] == bot["id"]]
    assert item["contact"] == {"id": contact_id, "name": "Ivy", "email": "ivy@example.com"}
    detail = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{item['id']}")
    assert detail["contact"]["id"] == contact_id
