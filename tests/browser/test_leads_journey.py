"""Leads in real browsers: a visitor fills the lead form on a host page (another origin) with the
keyboard alone, meets the per-field errors, sends it and chats on; the owner finds the contact on
the dashboard's Contacts page, with the conversation linked. A verified visitor (the host page
signs a PyJWT token) sees one history in two browsers, and an expired token says so. The owner
edits the lead form and sees it live in the widget preview, and gets the identity secret once."""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Watcher, open_browsing
from tests.browser_support import HostSite, embed_page, open_widget
from tests.support import PASSWORD
from tests.widget_support import make_bot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LEAD_FORM = {"enabled": True, "when": "before_chat", "after_messages": 3, "fields": [
    {"name": "name", "label": "Your name", "type": "text", "required": True},
    {"name": "email", "label": "Email", "type": "email", "required": True},
    {"name": "company", "label": "Company", "type": "select", "required": False, "options": ["Acme", "Globex"]},
], "consent_text": "I agree that the shop may contact me about my question.", "privacy_url": "https://shop.example.com/privacy"}
WIDGET = "modelpilot-widget"
ACTIVE_LABEL = """() => { const a = document.querySelector('modelpilot-widget').shadowRoot.activeElement;
  if (!a) return null; const l = a.id && a.getRootNode().querySelector('label[for="' + a.id + '"]');
  return l ? l.textContent : (a.getAttribute('aria-label') || a.textContent); }"""


def log_in(page: Page, email: str = "owner@example.com") -> None:
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def focused_label(page: Page) -> str | None:
    return page.evaluate(ACTIVE_LABEL)


def visitor(chromium, url: str, watch: bool = True):
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    watcher = Watcher()
    if watch:
        watcher.attach(page)
    page.goto(url)
    return context, page, watcher


@pytest.fixture
def shop(server, owner, fake_llm, host_site: HostSite):
    bot = make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin])
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"lead_form": LEAD_FORM})
    return bot


def test_visitor_fills_the_lead_form_by_keyboard_and_the_contact_reaches_the_dashboard(  # noqa: PLR0915
        chromium, server, owner, shop, host_site, fake_llm, artifacts_dir) -> None:
    context, page, watch = visitor(chromium, host_site.page("/shop", embed_page(server.url, shop["id"])))
    widget = page.locator(WIDGET)
    page.locator(f"{WIDGET} .mp-launcher").focus()
    page.keyboard.press("Enter")
    form = widget.get_by_role("region", name="Your contact details")
    expect(form).to_be_visible()
    # Before the chat, with required fields: the form comes first and the composer waits for it.
    expect(widget.get_by_role("textbox", name="Your message")).to_be_disabled()
    page.wait_for_function(f"() => ({ACTIVE_LABEL})() === 'Your name *'")
    name = widget.get_by_label("Your name")
    expect(name).to_have_attribute("required", "")
    expect(widget.get_by_label("Company")).to_have_js_property("tagName", "SELECT")
    privacy = widget.get_by_role("link", name="Privacy policy")
    expect(privacy).to_have_attribute("target", "_blank")
    expect(privacy).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(privacy).to_have_attribute("href", "https://shop.example.com/privacy")

    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Tab")
    assert focused_label(page) == "Email *"
    page.keyboard.type("ada@example")
    page.keyboard.press("Enter")  # sends the form from a text field, as any form does
    email = widget.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    error = widget.locator("#mp-lead-1-error")
    expect(error).to_have_text("Enter an email address like name@example.com.")
    expect(email).to_have_attribute("aria-describedby", "mp-lead-1-error")
    consent = widget.get_by_label(re.compile("^I agree that the shop"))
    expect(consent).to_have_attribute("aria-invalid", "true")  # every problem at once
    expect(name).not_to_have_attribute("aria-invalid", "true")
    assert focused_label(page) == "Email *", "focus goes to the first bad field"
    page.screenshot(path=str(artifacts_dir / "widget-lead-errors.png"))

    page.keyboard.press("End")
    page.keyboard.type(".com")
    page.keyboard.press("Tab")
    assert focused_label(page) == "Company"
    page.keyboard.press("ArrowDown")
    expect(widget.get_by_label("Company")).to_have_value("Acme")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    page.keyboard.press("Tab")
    expect(privacy).to_be_focused()
    page.keyboard.press("Tab")
    expect(widget.get_by_role("button", name="Send details")).to_be_focused()
    page.keyboard.press("Enter")

    expect(form).to_have_count(0)
    expect(widget.locator(".mp-system")).to_have_text(["Thank you! We have your details."])
    message = widget.get_by_role("textbox", name="Your message")
    expect(message).to_be_enabled()
    expect(message).to_be_focused()
    page.keyboard.type("When are you open?")
    page.keyboard.press("Enter")
    expect(widget.locator(".mp-assistant .mp-feedback")).to_have_count(1)
    # A known contact is never asked again, not even after a reload.
    page.reload()
    open_widget(page)
    expect(widget.locator(".mp-user .mp-bubble")).to_have_text(["When are you open?"])
    expect(widget.get_by_role("region", name="Your contact details")).to_have_count(0)
    watch.check()
    context.close()

    # The owner finds the contact, opens it, and follows its conversation.
    browsing = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    dash = browsing.page
    log_in(dash)
    dash.get_by_role("link", name="Contacts").click()
    expect(dash.get_by_role("heading", level=1)).to_have_text("Contacts")
    row = dash.locator("tbody tr", has_text="ada@example.com")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ada Lovelace")
    expect(row).to_contain_text("Acme")
    expect(dash.get_by_role("link", name="Export CSV")).to_have_attribute("href", re.compile(r"/contacts/export\?format=csv$"))
    browsing.shoot("contacts")
    row.get_by_role("link", name="Ada Lovelace").click()
    expect(dash.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    conversations = dash.get_by_role("region", name="Conversations")
    expect(conversations.locator("tbody tr")).to_have_count(1)
    expect(conversations).to_contain_text("Shop helper")
    browsing.shoot("contact")
    conversations.locator("tbody tr a").first.click()
    expect(dash.get_by_role("heading", level=1)).to_have_text("Conversation with Shop helper")
    conversation_id = dash.url.rsplit("/", 1)[1]
    dash.get_by_role("link", name="Conversations", exact=True).click()
    expect(dash.locator("tbody tr", has_text="When are you open?").get_by_role("link", name="Ada Lovelace <ada@example.com>")).to_be_visible()
    dash.go_back()
    expect(dash.get_by_role("heading", level=1)).to_have_text("Conversation with Shop helper")
    dash.get_by_role("link", name="Ada Lovelace <ada@example.com>").click()

    # Edited (agents and up), then deleted (admins) with the conversations it had.
    edit = dash.get_by_role("form", name="Edit contact")
    edit.get_by_label("Phone").fill("+44 20 7946 0958")
    edit.get_by_role("button", name="Save contact").click()
    expect(dash.locator(".contact-details")).to_contain_text("+44 20 7946 0958")
    dash.get_by_role("button", name="Delete contact").click()
    dialog = dash.get_by_role("dialog")
    expect(dialog).to_contain_text("its 1 conversation, with every message in them")
    dialog.get_by_role("button", name="Delete contact and conversations").click()
    expect(dash.get_by_role("heading", level=1)).to_have_text("Contacts")
    expect(dash.get_by_text("No contacts yet")).to_be_visible()
    owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation_id}", status=404)
    browsing.watcher.check()
    browsing.close()


def test_server_field_errors_land_under_their_fields(chromium, server, shop, host_site) -> None:
    """The server's 400 details (every bad field at once) are shown under the fields they name."""
    context, page, watch = visitor(chromium, host_site.page("/shop", embed_page(server.url, shop["id"])))
    watch.allow(400, r"/lead$")
    details = [{"field": "fields.name", "message": "Name must not contain control characters."},
               {"field": "consent", "message": "Consent is required."}]

    def refuse(route) -> None:
        route.fulfill(status=400, content_type="application/json", headers={"access-control-allow-origin": host_site.origin},
                      body=json.dumps({"error": {"code": "validation_error", "message": "Invalid", "details": details}}))

    page.route(re.compile(r".*/api/v1/widget/.*/lead$"), refuse)
    open_widget(page)
    widget = page.locator(WIDGET)
    widget.get_by_label("Your name").fill("Ada")
    widget.get_by_label("Email").fill("ada@example.com")
    widget.get_by_label(re.compile("^I agree")).check()
    widget.get_by_role("button", name="Send details").click()
    expect(widget.locator("#mp-lead-0-error")).to_have_text("Name must not contain control characters.")
    expect(widget.get_by_label("Your name")).to_be_focused()
    expect(widget.locator("#mp-lead-consent-error")).to_have_text("Consent is required.")
    expect(widget.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")
    expect(widget.get_by_role("region", name="Your contact details")).to_be_visible()
    watch.check()
    context.close()


def test_after_messages_the_server_asks_and_not_now_keeps_it_closed(chromium, server, owner, shop, host_site) -> None:
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{shop['id']}",
             json={"lead_form": {**LEAD_FORM, "when": "after_messages", "after_messages": 1}})
    context, page, watch = visitor(chromium, host_site.page("/shop", embed_page(server.url, shop["id"])))
    open_widget(page)
    widget = page.locator(WIDGET)
    form = widget.get_by_role("region", name="Your contact details")
    message = widget.get_by_role("textbox", name="Your message")
    expect(message).to_be_enabled()
    expect(form).to_have_count(0)  # not before the chat: only when the server asks
    message.fill("When are you open?")
    message.press("Enter")
    expect(widget.locator(".mp-assistant .mp-feedback")).to_have_count(1)
    expect(form).to_be_visible()
    expect(widget.get_by_label("Your name")).to_be_focused()
    expect(message).to_be_enabled()  # mid-chat the form does not hold the conversation up
    widget.get_by_role("button", name="Not now").click()
    expect(form).to_have_count(0)
    expect(message).to_be_focused()
    message.fill("And on Sundays?")
    message.press("Enter")
    expect(widget.locator(".mp-assistant .mp-feedback")).to_have_count(2)
    expect(form).to_have_count(0)  # the server asks again on every answer; the page remembers "not now"
    watch.check()
    context.close()


def test_outside_hours_a_handoff_offers_the_lead_form(chromium, server, owner, shop, host_site) -> None:
    closed = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{shop['id']}", json={
        "lead_form": {**LEAD_FORM, "when": "on_handoff", "consent_text": ""},
        "handoff": {"enabled": True, "button_label": "Talk to a person", "keywords": ["human"],
                    "hours": {"timezone": "UTC", "weekly": closed}, "offline_message": "We are away right now."}})
    context, page, watch = visitor(chromium, host_site.page("/shop", embed_page(server.url, shop["id"])))
    open_widget(page)
    widget = page.locator(WIDGET)
    form = widget.get_by_role("region", name="Your contact details")
    expect(form).to_have_count(0)
    widget.get_by_role("button", name="Talk to a person").click()
    expect(widget.locator(".mp-state")).to_have_text("We are away right now.")
    expect(form).to_be_visible()
    expect(widget.get_by_label("Your name")).to_be_focused()
    widget.get_by_label("Your name").fill("Lin")
    widget.get_by_label("Email").fill("lin@example.com")
    widget.get_by_label("Email").press("Enter")
    expect(widget.locator(".mp-system")).to_have_text(["Thank you! We have your details."])
    contacts = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/contacts", params={"q": "lin@"})["items"]
    assert [(c["name"], c["email"]) for c in contacts] == [("Lin", "lin@example.com")]
    watch.check()
    context.close()


def identity_page(host_site: HostSite, server, bot_id: str, token: str, path: str) -> str:
    head = f"<script>window.ModelPilotConfig = {{ identity: {json.dumps(token)} }};</script>"
    return host_site.page(path, embed_page(server.url, bot_id, head=head))


def test_a_verified_visitor_has_one_history_on_two_browsers(chromium, server, owner, shop, host_site, fake_llm) -> None:
    secret = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{shop['id']}/identity-secret", json={})["secret"]
    now = int(time.time())
    token = jwt.encode({"sub": "customer-42", "email": "grace@example.com", "name": "Grace Hopper", "iat": now, "exp": now + 600},
                       secret, algorithm="HS256")
    url = identity_page(host_site, server, shop["id"], token, "/account")

    laptop, first, first_watch = visitor(chromium, url)
    open_widget(first)
    widget = first.locator(WIDGET)
    # A verified visitor is a known contact: no lead form, the composer is free.
    expect(widget.get_by_role("textbox", name="Your message")).to_be_enabled()
    expect(widget.get_by_role("region", name="Your contact details")).to_have_count(0)
    widget.get_by_role("textbox", name="Your message").fill("Where is my order 1234?")
    widget.get_by_role("textbox", name="Your message").press("Enter")
    expect(widget.locator(".mp-assistant .mp-feedback")).to_have_count(1)
    first_session = first.evaluate(f"() => localStorage.getItem('modelpilot:{shop['id']}:session')")

    phone, second, second_watch = visitor(chromium, url)  # another browser: its own storage
    open_widget(second)
    other = second.locator(WIDGET)
    expect(other.locator(".mp-user .mp-bubble")).to_have_text(["Where is my order 1234?"])
    expect(other.locator(".mp-assistant .mp-feedback")).to_have_count(1)
    assert second.evaluate(f"() => localStorage.getItem('modelpilot:{shop['id']}:session')") == first_session
    other.get_by_role("textbox", name="Your message").fill("And order 99?")
    other.get_by_role("textbox", name="Your message").press("Enter")
    expect(other.locator(".mp-assistant .mp-feedback")).to_have_count(2)
    first.reload()
    open_widget(first)
    expect(widget.locator(".mp-user .mp-bubble")).to_have_text(["Where is my order 1234?", "And order 99?"])
    contacts = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/contacts", params={"q": "grace"})["items"]
    assert [(c["email"], c["verified"], c["external_id"]) for c in contacts] == [("grace@example.com", True, "customer-42")]
    first_watch.check()
    second_watch.check()
    laptop.close()
    phone.close()


def test_an_expired_token_is_refused_with_a_reason(chromium, server, owner, shop, host_site) -> None:
    secret = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{shop['id']}/identity-secret", json={})["secret"]
    expired = jwt.encode({"sub": "customer-42", "exp": int(time.time()) - 3600}, secret, algorithm="HS256")
    context, page, _ = visitor(chromium, identity_page(host_site, server, shop["id"], expired, "/expired"), watch=False)
    open_widget(page)
    widget = page.locator(WIDGET)
    expect(widget.get_by_role("alert")).to_contain_text("Your sign-in could not be verified")
    expect(widget.get_by_role("textbox", name="Your message")).to_be_disabled()
    expect(widget.get_by_role("region", name="Your contact details")).to_have_count(0)
    context.close()


def test_owner_edits_the_lead_form_with_a_live_preview_and_gets_the_identity_secret_once(
        chromium, server, owner, fake_llm, artifacts_dir) -> None:
    bot = make_bot(owner, fake_llm, name="Shop helper")
    browsing = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = browsing.page
    log_in(page)
    page.goto(f"/#/w/{owner.ws}/bots/{bot['id']}/widget")
    editor = page.get_by_role("form", name="Lead form")
    preview = page.frame_locator("iframe.widget-stage").locator(WIDGET)
    expect(preview.get_by_role("textbox", name="Your message")).to_be_visible()
    # The default form (one email field) shows in the preview before anything is saved.
    expect(preview.get_by_role("region", name="Your contact details")).to_be_visible()

    editor.get_by_label("Ask visitors for their contact details").check()
    editor.get_by_role("button", name="Add field").click()
    added = editor.locator(".lead-field-row").nth(1)
    expect(added.get_by_label("Label")).to_be_focused()
    expect(added.get_by_label("Label")).to_have_value("Name")
    added.get_by_label("Label").fill("Full name")
    expect(preview.get_by_label("Full name")).to_be_visible()  # live, unsaved
    added.get_by_role("button", name="Move up: Full name").click()
    expect(editor.locator(".lead-field-row legend")).to_have_text(["Field 1: Full name", "Field 2: Email"])
    expect(preview.locator(".mp-lead-label")).to_have_text(["Full name", "Email *"])
    editor.get_by_label("Consent text").fill("I agree to be contacted.")
    expect(preview.get_by_label("I agree to be contacted.")).to_be_visible()
    editor.get_by_role("button", name="Save lead form").click()
    expect(page.locator(".toast").last).to_have_text("Lead form saved: visitors are asked for their details.")
    saved = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")["lead_form"]
    assert [f["name"] for f in saved["fields"]] == ["name", "email"]
    assert saved["enabled"] and saved["consent_text"] == "I agree to be contacted."
    browsing.shoot("widget-lead-form")

    panel = page.get_by_role("region", name="Verified visitors")
    expect(panel.get_by_test_id("identity-python")).to_contain_text(bot["id"])
    panel.get_by_role("button", name="Generate secret").click()
    secret = panel.locator("code.identity-secret")
    expect(secret).to_have_text(re.compile(r"^mpid_"))
    shown = secret.inner_text()
    for snippet in ("identity-python", "identity-node", "identity-page"):
        expect(panel.get_by_test_id(snippet)).not_to_contain_text(shown)
    expect(panel.get_by_role("button", name="Rotate secret")).to_be_visible()
    page.reload()
    panel = page.get_by_role("region", name="Verified visitors")
    expect(panel.get_by_text(re.compile(r"^On\. "))).to_be_visible()
    expect(panel.locator("code.identity-secret")).to_have_count(0)
    assert shown not in page.content()

    panel.get_by_role("button", name="Rotate secret").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Tokens signed with the current secret stop working at once")
    dialog.get_by_role("button", name="Rotate secret").click()
    expect(panel.locator("code.identity-secret")).to_have_text(re.compile(r"^mpid_"))
    assert panel.locator("code.identity-secret").inner_text() != shown
    panel.get_by_role("button", name="Turn off").click()
    page.get_by_role("dialog").get_by_role("button", name="Turn off").click()
    expect(panel.get_by_text(re.compile(r"^Off\. "))).to_be_visible()
    expect(panel.locator("code.identity-secret")).to_have_count(0)
    expect(panel.get_by_role("button", name="Generate secret")).to_be_focused()
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")["identity"]["configured"] is False
    panel.get_by_label("Give the model the visitor's details").check()
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".toast").last).to_have_text("The model now sees verified visitors' details.")
    assert owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")["visitor_context"] is True
    browsing.watcher.check()
    browsing.close()


def test_contacts_page_searches_loads_more_and_adds_a_contact(chromium, server, owner, artifacts_dir) -> None:
    for n in range(52):
        body = {"name": f"Person {n:02d}", "email": f"person{n:02d}@example.com"}
        if n == 7:
            body["company"] = "Globex"
        owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/contacts", json=body)
    browsing = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    browsing.watcher.allow(409, r"/contacts$")  # the e-mail another contact has, below
    page = browsing.page
    log_in(page)
    page.goto(f"/#/w/{owner.ws}/contacts")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Person 51")  # newest first
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(52)
    expect(rows.nth(50).get_by_role("link")).to_be_focused()  # keyboard users go on from the new rows
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)

    page.get_by_role("searchbox", name="Search").fill("globex")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("person07@example.com")
    expect(page).to_have_url(re.compile(r"contacts\?q=globex$"))

    page.get_by_text("Add a contact").click()
    add = page.get_by_role("form", name="Add a contact")
    add.get_by_label("Name").fill("Someone")
    add.get_by_label("Email").fill("person07@example.com")
    add.get_by_role("button", name="Add contact").click()
    expect(add.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(add).to_contain_text("Another contact already has this e-mail address.")
    add.get_by_label("Email").fill("someone@example.com")
    add.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Someone")
    expect(page.get_by_role("region", name="Conversations")).to_contain_text("No conversations yet.")
    browsing.watcher.check()
    browsing.close()


def test_a_viewer_reads_leads_but_changes_nothing(chromium, server, owner, client_factory, fake_llm, artifacts_dir) -> None:
    bot = make_bot(owner, fake_llm, name="Shop helper")
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"lead_form": LEAD_FORM})
    contact = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/contacts", json={"name": "Ada", "email": "ada@example.com"})
    viewer = client_factory()
    owner.invite_and_join(viewer, "vera@example.com", "viewer")
    browsing = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = browsing.page
    log_in(page, "vera@example.com")
    page.goto(f"/#/w/{owner.ws}/bots/{bot['id']}/widget")
    editor = page.get_by_role("form", name="Lead form")
    expect(editor.get_by_label("Ask visitors for their contact details")).to_be_disabled()
    expect(editor.get_by_role("button", name="Save lead form")).to_have_count(0)
    expect(editor.get_by_role("button", name="Add field")).to_be_disabled()
    panel = page.get_by_role("region", name="Verified visitors")
    expect(panel.get_by_role("button", name="Generate secret")).to_have_count(0)
    expect(panel.get_by_test_id("identity-node")).to_contain_text(bot["id"])
    # (The preview frame is let finish loading: leaving while it loads aborts its request.)
    expect(page.frame_locator("iframe.widget-stage").locator(WIDGET).get_by_role("textbox", name="Your message")).to_be_visible()
    page.goto(f"/#/w/{owner.ws}/contacts")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Export CSV")).to_have_count(0)
    expect(page.get_by_text("Add a contact")).to_have_count(0)
    page.get_by_role("link", name="Ada", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada")
    expect(page.get_by_role("form", name="Edit contact")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete contact")).to_have_count(0)
    assert contact["id"] in page.url
    browsing.watcher.check()
    browsing.close()
