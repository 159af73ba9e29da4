"""An action that asks first, end to end in Chromium: a visitor on a host page (another origin)
asks; the fake model calls `lookup_order`; the widget shows the confirm card with the arguments
(as text, keyboard reachable, focus on it) and nothing has run yet. Approve runs the action once
against a local HTTP service, the status line shows while it runs, and the answer streams in;
Decline runs nothing; a failing action leaves a note in place of its status line. A reload shows the saved text; the dashboard's conversation log shows both
calls with their arguments, status and the response excerpt."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Watcher, open_browsing
from tests.browser_support import embed_page, open_widget
from tests.fakes.action_server import start_action_service
from tests.fakes.llm import TOOL_ANSWER, TOOL_PREAMBLE
from tests.support import PASSWORD, Api, eventually
from tests.widget_support import make_bot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CARD = "modelpilot-widget .mp-confirm"
ORDER_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order number"}},
                "required": ["order_id"]}
HOSTILE_ID = "<img src=x onerror=alert(1)>"
# Every status line the widget shows, as it appears: they come and go within a request.
WATCH_TOOL_LINES = """() => {
  const root = document.querySelector('modelpilot-widget').shadowRoot;
  window.toolLines = [];
  new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
    if (n.classList && n.classList.contains('mp-tool')) window.toolLines.push(n.textContent);
  }))).observe(root.querySelector('.mp-log'), { childList: true });
}"""
FOCUSED_CLASS = "() => document.querySelector('modelpilot-widget').shadowRoot.activeElement?.className"


@pytest.fixture
def action_service():
    running = start_action_service()
    yield running
    running.stop()


@pytest.fixture
def shop(server_factory, fake_llm, host_site, action_service):
    live = server_factory(outbound_allow_private=True)
    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin])
    action = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/actions", 201, json={
        "name": "lookup_order", "label": "Checking your order…", "description": "Look up an order by its number.",
        "parameters": ORDER_SCHEMA, "url": action_service.url + "/orders/{order_id}", "confirm": True,
        "headers": {"X-Shop-Key": "shop-key-7d1e"}})
    stock = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/actions", 201, json={
        "name": "check_stock", "label": "Checking stock…", "description": "Whether an item is in stock.",
        "url": action_service.url + "/fail"})
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}",
             json={"tools": [{"type": "action", "id": action["id"]}, {"type": "action", "id": stock["id"]}]})
    yield live, owner, bot
    owner.close()


def say(page: Page, text: str) -> None:
    # The widget takes a message once the answer before it has ended (Enter while busy does nothing).
    expect(page.locator("modelpilot-widget .mp-window")).not_to_have_attribute("aria-busy", "true")
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def ask_for_order(page: Page, order_id: str) -> None:
    say(page, f'Where is my order {order_id}? [[tool:lookup_order {{"order_id": "{order_id}"}}]]')


def saved_answers(base_url: str, bot_id: str, session_id: str, origin: str) -> int:
    history = httpx.get(f"{base_url}/api/v1/widget/{bot_id}/history", params={"session_id": session_id},
                        headers={"origin": origin}).json()
    return sum(1 for m in history["messages"] if m["role"] == "assistant" and TOOL_ANSWER in m["content"])


def orders_called(action_service) -> list[str]:
    return [r["path"] for r in action_service.requests if r["path"].startswith("/orders/")]


def test_visitor_approves_then_declines_an_action_that_asks_first(chromium, shop, host_site, action_service, artifacts_dir) -> None:  # noqa: PLR0915
    live, owner, bot = shop
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    watcher = Watcher()
    watcher.attach(page)
    page.on("dialog", lambda dialog: watcher.problems.append(f"a dialog opened: {dialog.message}"))
    page.goto(host_site.page("/shop/orders", embed_page(live.url, bot["id"])))
    open_widget(page)
    page.evaluate(WATCH_TOOL_LINES)

    ask_for_order(page, "A-17")
    card = page.locator(CARD)
    expect(card).to_be_visible()
    expect(card.locator(".mp-confirm-title")).to_have_text("Please confirm")
    expect(card.locator(".mp-confirm-what")).to_have_text("Checking your order")
    expect(card.locator("dt")).to_have_text(["Order id"])
    expect(card.locator("dd")).to_have_text(["A-17"])
    expect(card).to_have_attribute("role", "group")
    page.wait_for_function(f"() => ({FOCUSED_CLASS})() === 'mp-confirm'")  # focus moved to the card
    # What the model said before asking is shown and saved; nothing has been called yet.
    expect(page.locator("modelpilot-widget .mp-assistant .mp-bubble").last).to_have_text(TOOL_PREAMBLE.strip())
    assert orders_called(action_service) == []
    page.screenshot(path=str(artifacts_dir / "widget-confirm-card.png"))

    # Keyboard only: Tab reaches Approve, Enter answers.
    page.keyboard.press("Tab")
    page.wait_for_function(f"() => ({FOCUSED_CLASS})() === 'mp-approve'")
    page.keyboard.press("Enter")
    expect(page.locator("modelpilot-widget .mp-assistant .mp-bubble").last).to_have_text(TOOL_ANSWER)
    expect(card.locator(".mp-confirm-result")).to_have_text("Approved")
    expect(card.get_by_role("button")).to_have_count(0)
    assert orders_called(action_service) == ["/orders/A-17"]
    assert action_service.requests[-1]["headers"]["x-shop-key"] == "shop-key-7d1e"
    assert "Checking your order…" in page.evaluate("window.toolLines")  # the status line while it ran
    expect(page.locator("modelpilot-widget .mp-tool")).to_have_count(0)  # and gone once done
    page.screenshot(path=str(artifacts_dir / "widget-confirm-approved.png"))

    # The second time the visitor says no: the card takes the arguments as text, the action never runs.
    say(page, f'And this one? [[tool:lookup_order {{"order_id": "{HOSTILE_ID}"}}]]')
    second = page.locator(CARD).nth(1)
    expect(second.locator("dd")).to_have_text([HOSTILE_ID])
    expect(second.locator("img")).to_have_count(0)
    second.get_by_role("button", name="Decline").click()
    expect(second.locator(".mp-confirm-result")).to_have_text("Declined")
    expect(page.locator("modelpilot-widget .mp-assistant .mp-bubble")).to_have_count(5)  # greeting + 2 × (preamble, answer)
    assert orders_called(action_service) == ["/orders/A-17"]

    # An action without confirmation runs at once; when it fails, a quiet note replaces its status line.
    say(page, "Is it in stock? [[tool:check_stock {}]]")
    expect(page.locator("modelpilot-widget .mp-tool-failed")).to_have_text("Could not finish this step: Checking stock")
    # One message: what the model said before the call and after it, the note below.
    expect(page.locator("modelpilot-widget .mp-assistant .mp-bubble").last).to_have_text(TOOL_PREAMBLE + TOOL_ANSWER)
    assert "Checking stock…" in page.evaluate("window.toolLines")
    assert [r["path"] for r in action_service.requests].count("/fail") == 1

    # A reload shows the saved conversation (the cards were only questions; the text stays). The
    # turn is saved in the background as its stream ends: wait for the save, as a reload might.
    session_id = page.evaluate(f"localStorage.getItem('modelpilot:{bot['id']}:session')")
    eventually(lambda: saved_answers(live.url, bot["id"], session_id, host_site.origin), lambda n: n == 3, timeout=15,
               what="the three answers saved")
    page.reload()
    open_widget(page)
    bubbles = page.locator("modelpilot-widget .mp-msg .mp-bubble")
    expect(bubbles.filter(has_text=TOOL_ANSWER)).to_have_count(3)
    expect(bubbles.filter(has_text="Where is my order A-17?")).to_have_count(1)
    watcher.check()
    context.close()

    # The dashboard's log: both calls, with what was sent, how it went and what came back.
    conversation_id = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations")["items"][0]["id"]
    b = open_browsing(chromium, live.url, artifacts_dir / "actions-log")
    b.page.goto("/#/login")
    b.page.get_by_label("Email", exact=True).fill("owner@example.com")
    b.page.get_by_label("Password", exact=True).fill(PASSWORD)
    b.page.get_by_role("button", name="Log in").click()
    expect(b.page.get_by_role("heading", level=1)).to_have_text("Overview")
    b.page.goto(f"/#/w/{owner.ws}/conversations/{conversation_id}")
    calls = b.page.locator(".tool-call")
    expect(calls).to_have_count(3)
    expect(calls.nth(0).locator(".tool-name")).to_have_text("lookup_order")
    expect(calls.nth(0).locator(".badge")).to_have_text("done")
    expect(calls.nth(0).locator(".tool-arguments")).to_have_text("order_id: A-17")
    expect(calls.nth(0).locator(".tool-latency")).to_have_text(re.compile(r"^\d+ ms$|s$"))
    calls.nth(0).get_by_text("Response").click()
    expect(calls.nth(0).locator(".response-excerpt")).to_contain_text("shipped")
    expect(calls.nth(1).locator(".badge")).to_have_text("declined")
    expect(calls.nth(1).locator(".tool-arguments")).to_have_text(f"order_id: {HOSTILE_ID}")
    expect(calls.nth(2).locator(".tool-name")).to_have_text("check_stock")
    expect(calls.nth(2).locator(".badge")).to_have_text("error")
    expect(calls.nth(2).locator(".tool-error")).not_to_have_text("")
    assert "shop-key-7d1e" not in b.page.content()
    b.shoot("conversation-tool-calls")
    b.close()
