"""Human handoff end to end in two real browsers: a visitor in the widget on a host page (another
origin) and an agent in the dashboard. The agent sees the visitor arrive without reloading, takes
the conversation, answers; the visitor sees it live with the agent's name and answers back; the
agent hands back to the bot, which answers with the whole history; both reload and see one log.
Plus: the badge and tab title on any dashboard page, a conversation someone else took, and the
widget's stream surviving a dropped connection."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Watcher, open_browsing
from tests.browser_support import CuttableProxy, HostSite, embed_page, open_widget
from tests.support import PASSWORD, Api
from tests.widget_support import make_bot, widget_chat

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HANDOFF = {"enabled": True, "button_label": "Talk to a person", "keywords": ["human", "real person"], "hours": None,
           "offline_message": "We are away right now."}
STATE = "modelpilot-widget .mp-state"

WIDGET_LOG = """() => [...document.querySelector('modelpilot-widget').shadowRoot.querySelector('.mp-log').children]
  .map((n) => {
    if (n.classList.contains('mp-system')) return ['system', n.textContent];
    if (!n.classList.contains('mp-msg')) return null;
    const kind = ['user', 'assistant', 'operator'].find((k) => n.classList.contains('mp-' + k));
    return [kind, n.querySelector('.mp-bubble').textContent];
  }).filter(Boolean)"""

DASHBOARD_LOG = """() => [...document.querySelectorAll('.inbox-log > *')].map((n) => {
    const kind = ['system', 'operator', 'user', 'assistant'].find((k) => n.classList.contains(k));
    const text = kind === 'system' ? n.textContent : kind === 'operator' ? n.querySelector('.msg-text').textContent
      : n.firstElementChild.textContent;
    return [kind, text];
  })"""


def comparable(entries: list[list[str]]) -> list[tuple[str, str]]:
    """From the first visitor message on (the widget opens with a greeting that is no message);
    bot answers by kind only (the widget renders their markdown, the dashboard shows it raw)."""
    kinds = [kind for kind, _ in entries]
    start = kinds.index("user")
    return [(kind, "" if kind == "assistant" else text.strip()) for kind, text in entries[start:]]


@pytest.fixture
def shop(server, owner, client_factory, fake_llm, host_site: HostSite):
    bot = make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin])
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"handoff": HANDOFF})
    agent = client_factory()
    owner.invite_and_join(agent, "anna@example.com", "agent")
    agent.ok("PATCH", "/api/v1/auth/me", json={"name": "Anna"})
    owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/saved-replies",
             json={"title": "Opening hours", "text": "We open at 9 on weekdays."})
    return bot, agent


def log_in(page: Page, email: str) -> str:
    page.goto("/#/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    return re.search(r"#/w/([^/]+)/", page.url).group(1)


def visitor_page(chromium, host_site: HostSite, server, bot: dict, watch: bool = True):
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    watcher = Watcher()
    if watch:
        watcher.attach(page)
    page.goto(host_site.page("/shop/hours", embed_page(server.url, bot["id"])))
    open_widget(page)
    return context, page, watcher


def say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")


def section(page: Page, title: str):
    return page.locator("section.inbox-section", has=page.get_by_role("heading", name=re.compile("^" + title)))


def test_visitor_asks_for_a_person_agent_answers_and_hands_back_to_the_bot(chromium, server, owner, shop, host_site,  # noqa: PLR0915
                                                                            fake_llm, knowledge, artifacts_dir) -> None:
    bot, _ = shop
    agent = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = agent.page
    log_in(page, "anna@example.com")
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    expect(page.get_by_text("Nobody needs a person right now")).to_be_visible()

    visitor_context, visitor, visitor_watch = visitor_page(chromium, host_site, server, bot)
    say(visitor, "When are you open?")
    visitor.locator("modelpilot-widget .mp-assistant .mp-feedback").last.wait_for()
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(STATE)).to_have_text(re.compile("^Waiting for a person"))
    expect(visitor.get_by_role("button", name="Talk to a person")).to_be_hidden()
    # (Checked in the shadow root: the visitor's window is not the focused one of the two.)
    visitor.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot.activeElement"
                              "?.getAttribute('aria-label') === 'Your message'")

    # The agent's inbox shows it without a reload: waiting, with the page the visitor is on.
    waiting = section(page, "Waiting")
    expect(waiting.locator(".inbox-item")).to_have_count(1)
    expect(waiting).to_contain_text(host_site.origin + "/shop/hours")
    expect(page.locator(".sidenav [data-badge=inbox]")).to_have_text("1")
    expect(page).to_have_title("(1) Inbox · ModelPilot")
    wait = waiting.locator(".wait")
    shown = wait.inner_text()
    expect(wait).not_to_have_text(shown)  # the wait ticks
    agent.shoot("inbox-waiting")

    waiting.locator("a.inbox-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversation with Shop helper")
    log = page.get_by_role("log", name="Messages")
    expect(log.locator(".msg.user")).to_have_text(["When are you open?"])
    expect(log.locator(".msg.assistant .sources")).to_contain_text("Opening hours")
    expect(page.locator(".inbox-details")).to_contain_text(host_site.origin + "/shop/hours")

    page.get_by_role("button", name="Take", exact=True).click()
    expect(page.locator(".inbox-status")).to_have_text("with Anna")
    expect(page.locator(".sidenav [data-badge=inbox]")).to_be_hidden()
    expect(visitor.locator(STATE)).to_have_text("With Anna")

    reply = page.get_by_role("textbox", name="Reply")
    page.get_by_role("button", name="Insert saved reply: Opening hours").click()
    expect(reply).to_have_value("We open at 9 on weekdays.")
    expect(reply).to_be_focused()
    reply.press("Shift+Enter")
    reply.press_sequentially("Anything else?")
    reply.press("Enter")
    expect(reply).to_have_value("")
    expect(log.locator(".msg.operator .msg-text")).to_have_text(["We open at 9 on weekdays.\nAnything else?"])

    # The visitor sees it live, with the agent's name.
    operator = visitor.locator("modelpilot-widget .mp-operator")
    expect(operator.locator(".mp-bubble")).to_have_text(["We open at 9 on weekdays.\nAnything else?"])
    expect(operator.locator(".mp-author")).to_have_text(["Anna"])
    visitor.screenshot(path=str(artifacts_dir / "widget-handoff.png"))

    model_calls = len(fake_llm.requests)
    assistants = visitor.locator("modelpilot-widget .mp-assistant").count()
    say(visitor, "Do you ship abroad?")
    expect(log.locator(".msg.user")).to_have_text(["When are you open?", "Do you ship abroad?"])
    expect(visitor.locator("modelpilot-widget .mp-user")).to_have_count(2)
    assert len(fake_llm.requests) == model_calls, "while a person has it, the model is not asked"
    assert visitor.locator("modelpilot-widget .mp-assistant").count() == assistants
    agent.shoot("inbox-conversation")

    page.get_by_role("button", name="Release to bot").click()
    expect(page.locator(".inbox-status")).to_have_text("with the bot")
    expect(visitor.locator(STATE)).to_have_text("Back to the bot")
    expect(visitor.get_by_role("button", name="Talk to a person")).to_be_visible()

    say(visitor, "Which payment methods do you take?")
    expect(visitor.locator("modelpilot-widget .mp-assistant .mp-feedback")).to_have_count(2)
    sent = fake_llm.requests[-1]["messages"]
    said = [str(m.get("content")) for m in sent]
    for text in ("When are you open?", "We open at 9 on weekdays.\nAnything else?", "Do you ship abroad?",
                 "Which payment methods do you take?"):
        assert any(text in content for content in said), f"the model did not get {text!r}: {sent}"

    # Both reload and see the same log.
    visitor.reload()
    open_widget(visitor)
    visitor.locator("modelpilot-widget .mp-operator").wait_for()
    # (Back with the bot, the conversation is no longer live on the server's event stream: the
    # agent's page shows its newer messages when opened again.)
    page.reload()
    expect(page.get_by_role("log", name="Messages").locator(".msg.user")).to_have_count(3)
    expect(page.get_by_role("log", name="Messages").locator(".msg.assistant")).to_have_count(2)
    widget_log = comparable(visitor.evaluate(WIDGET_LOG))
    dashboard_log = comparable(page.evaluate(DASHBOARD_LOG))
    assert widget_log == dashboard_log
    kinds = [kind for kind, _ in widget_log]
    assert kinds.count("system") >= 2, widget_log  # took over, back to the bot
    assert ("operator", "We open at 9 on weekdays.\nAnything else?") in widget_log
    expect(visitor.locator("modelpilot-widget .mp-operator .mp-author")).to_have_text(["Anna"])

    # Analytics count the handoff and the time to the first human reply.
    page.get_by_role("link", name="Analytics").click()
    expect(page.locator(".stat", has_text="Handoffs").locator(".value")).to_have_text("1")
    expect(page.locator(".stat", has_text="Answered by people").locator(".value")).to_have_text("1")
    expect(page.locator(".stat", has_text="First human reply").locator(".value")).to_have_text(re.compile(r"^\d+ s$|^\d+ min \d\d s$"))
    expect(page.get_by_role("figure", name="Handoffs per day")).to_be_visible()
    agent.watcher.check()
    visitor_watch.check()
    visitor_context.close()
    agent.close()


def test_badge_and_title_count_waiting_visitors_on_any_page(chromium, server, owner, shop, host_site, artifacts_dir) -> None:
    bot, _ = shop
    agent = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = agent.page
    log_in(page, "anna@example.com")
    badge = page.locator(".sidenav [data-badge=inbox]")
    expect(badge).to_be_hidden()
    origin = {"origin": host_site.origin}
    for n, session in enumerate(("a" * 32, "b" * 32), start=1):
        owner.ok("POST", f"/api/v1/widget/{bot['id']}/handoff", json={"session_id": session}, headers=origin)
        expect(badge).to_have_text(str(n))
        expect(page).to_have_title(f"({n}) Overview · ModelPilot")
    page.get_by_role("link", name="Chatbots").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chatbots")
    expect(badge).to_have_text("2")
    expect(page).to_have_title("(2) Chatbots · ModelPilot")
    first = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/inbox", params={"status": "waiting"})["items"][0]
    owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/conversations/{first['id']}/assign", json={})
    expect(badge).to_have_text("1")
    expect(page).to_have_title("(1) Chatbots · ModelPilot")
    agent.watcher.check()
    agent.close()


def test_someone_else_has_it_then_take_over(chromium, server, owner, shop, host_site, artifacts_dir) -> None:
    bot, _ = shop
    owner.ok("POST", f"/api/v1/widget/{bot['id']}/handoff", json={"session_id": "c" * 32}, headers={"origin": host_site.origin})
    conversation = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/inbox", params={"status": "waiting"})["items"][0]
    agent = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    agent.watcher.allow(409, r"/conversations/[^/]+/messages$")
    page = agent.page
    ws = log_in(page, "anna@example.com")
    page.goto(f"/#/w/{ws}/inbox/{conversation['id']}")
    expect(page.locator(".inbox-status")).to_have_text("waiting")
    owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}/assign", json={})
    expect(page.locator(".inbox-status")).to_have_text("with Owner")  # live, from the workspace stream
    reply = page.get_by_role("textbox", name="Reply")
    reply.fill("Hello, this is Anna.")
    reply.press("Enter")
    notice = page.locator(".inbox-notice")
    expect(notice).to_contain_text("Owner has this conversation.")
    expect(reply).to_have_value("Hello, this is Anna.")  # nothing typed is lost
    notice.get_by_role("button", name="Take over").click()
    expect(page.locator(".inbox-status")).to_have_text("with Anna")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("log", name="Messages").locator(".msg.operator .msg-text")).to_have_text(["Hello, this is Anna."])
    detail = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}")
    assert detail["assignee"]["name"] == "Anna"
    agent.watcher.check()
    agent.close()


def test_widget_stream_survives_a_dropped_connection(chromium, server, owner, shop, host_site) -> None:
    """The widget talks to the server through a proxy whose connections we cut: the open event
    stream dies mid-way, messages are sent meanwhile, and after the network returns the widget
    shows every one of them, once, and stays live."""
    bot, agent = shop
    proxy = CuttableProxy(int(server.url.rsplit(":", 1)[1]))
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    visitor = context.new_page()
    streams: list[str] = []
    visitor.on("request", lambda r: streams.append(r.url) if "/events?" in r.url else None)
    visitor.goto(host_site.page("/shop/hours", embed_page(proxy.url, bot["id"])))
    open_widget(visitor)
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(STATE)).to_have_text(re.compile("^Waiting for a person"))
    conversation = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/inbox", params={"status": "waiting"})["items"][0]
    path = f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}"
    agent.ok("POST", path + "/assign", json={})
    expect(visitor.locator(STATE)).to_have_text("With Anna")
    operator = visitor.locator("modelpilot-widget .mp-operator .mp-bubble")
    agent.ok("POST", path + "/messages", json={"text": "Before the drop."})
    expect(operator).to_have_text(["Before the drop."])
    connected = len(streams)

    proxy.cut()
    agent.ok("POST", path + "/messages", json={"text": "Sent while your connection was down."})
    agent.ok("POST", path + "/messages", json={"text": "And a second one."})
    visitor.wait_for_timeout(1500)  # the widget notices the drop and retries against a dead network
    expect(operator).to_have_count(1)
    proxy.restore()
    expect(operator).to_have_text(["Before the drop.", "Sent while your connection was down.", "And a second one."])
    assert len(streams) > connected, "the stream was opened again"
    assert all("last_event_id=" in url for url in streams[connected:]), streams
    # The new stream is live.
    agent.ok("POST", path + "/messages", json={"text": "Welcome back."})
    expect(operator).to_have_text(["Before the drop.", "Sent while your connection was down.", "And a second one.", "Welcome back."])
    agent.ok("POST", path + "/close")
    expect(visitor.locator(STATE)).to_have_text("This conversation was closed. Write to start again.")
    expect(visitor.get_by_role("button", name="Talk to a person")).to_be_visible()
    context.close()
    proxy.stop()


def test_handoff_settings_saved_replies_and_team_controls(chromium, server, owner, shop, artifacts_dir) -> None:
    bot, agent_api = shop
    b = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    b.watcher.allow(400, r"/chatbots/[^/]+$")
    page = b.page
    ws = log_in(page, "owner@example.com")

    # The bot editor's handoff settings: a bad day is caught here, a bad zone by the server,
    # each shown under its own field.
    page.goto(f"/#/w/{ws}/bots/{bot['id']}")
    form = page.get_by_role("form", name="Human handoff")
    expect(form.get_by_label("Visitors can ask for a person")).to_be_checked()
    form.get_by_label("Button label").fill("Chat with our team")
    form.get_by_label("Keywords").fill("human\nMensch\nreal person")
    form.get_by_label("Always open (no business hours)").uncheck()
    form.get_by_label("Monday").fill("9-5")
    form.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    form.get_by_label("Offline message").fill("We are back at nine.")
    form.get_by_role("button", name="Save handoff settings").click()
    monday = form.locator('.field[data-field="handoff.hours.weekly.mon"] .error')
    expect(monday).to_contain_text("write hours like 09:00-17:00")
    expect(form.get_by_label("Monday")).to_be_focused()
    form.get_by_label("Monday").fill("09:00-12:00, 13:00-17:00")
    form.get_by_role("button", name="Save handoff settings").click()
    zone = form.locator('.field[data-field="handoff.hours.timezone"] .error')
    expect(zone).to_contain_text("time zone")
    expect(monday).to_be_hidden()
    form.get_by_label("Time zone").fill("Europe/Berlin")
    form.get_by_role("button", name="Save handoff settings").click()
    expect(page.locator(".toast")).to_contain_text("Handoff settings saved")
    saved = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}")["handoff"]
    assert saved["button_label"] == "Chat with our team"
    assert saved["keywords"] == ["human", "mensch", "real person"]
    assert saved["hours"]["timezone"] == "Europe/Berlin"
    assert saved["hours"]["weekly"]["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert saved["hours"]["weekly"]["sat"] == []
    assert saved["offline_message"] == "We are back at nine."
    page.reload()
    expect(page.get_by_role("form", name="Human handoff").get_by_label("Monday")).to_have_value("09:00-12:00, 13:00-17:00")
    b.shoot("bot-handoff-settings")

    # Saved replies: add, edit, delete.
    page.goto(f"/#/w/{ws}/inbox/replies")
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved replies")
    page.get_by_label("Title").fill("Shipping")
    page.get_by_label("Text", exact=True).fill("We ship to the EU within 3 days.")
    page.get_by_role("button", name="Save reply").click()
    row = page.get_by_role("row").filter(has_text="Shipping")
    expect(row).to_contain_text("within 3 days")
    row.get_by_role("button", name="Edit Shipping").click()
    page.get_by_label("Text", exact=True).fill("We ship to the EU within 2 days.")
    page.get_by_role("button", name="Save reply").click()
    expect(page.get_by_role("row").filter(has_text="Shipping")).to_contain_text("within 2 days")
    page.get_by_role("row").filter(has_text="Opening hours").get_by_role("button", name="Delete Opening hours").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("row").filter(has_text="Opening hours")).to_have_count(0)
    replies = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/saved-replies")
    assert [(r["title"], r["text"]) for r in replies] == [("Shipping", "We ship to the EU within 2 days.")]

    # Team: the agent role can be given, in invitations and to members.
    page.goto(f"/#/w/{ws}/team")
    page.get_by_label("Email", exact=True).fill("ben@example.com")
    page.get_by_label("Role", exact=True).select_option("agent")
    page.get_by_role("button", name="Create invitation link").click()
    expect(page.get_by_role("row").filter(has_text="ben@example.com")).to_contain_text("agent")
    b.watcher.check()
    b.close()

    # The agent: the inbox in the navigation, saved replies to read only, and their own e-mail choice.
    a = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = a.page
    ws = log_in(page, "anna@example.com")
    expect(page.get_by_role("link", name=re.compile("^Inbox"))).to_be_visible()
    expect(page.get_by_role("link", name="API tokens")).to_have_count(0)
    page.goto(f"/#/w/{ws}/inbox/replies")
    expect(page.get_by_role("row").filter(has_text="Shipping")).to_be_visible()
    expect(page.get_by_role("button", name="Save reply")).to_have_count(0)
    page.goto(f"/#/w/{ws}/team")
    toggle = page.get_by_label("Email me when a conversation waits")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(page.locator(".toast")).to_contain_text("You will get an e-mail")
    me = next(m for m in owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/members") if m["email"] == "anna@example.com")
    assert me["notify_waiting"] is True
    page.reload()
    expect(page.get_by_label("Email me when a conversation waits")).to_be_checked()
    a.watcher.check()
    a.close()


def test_keyword_message_and_offline_hours_in_the_widget(chromium, server, owner, shop, host_site, fake_llm) -> None:
    bot, _ = shop
    context, visitor, watcher = visitor_page(chromium, host_site, server, bot)
    calls = len(fake_llm.requests)
    say(visitor, "Can I talk to a REAL PERSON please")
    expect(visitor.locator(STATE)).to_have_text(re.compile("^Waiting for a person"))
    expect(visitor.locator("modelpilot-widget .mp-user")).to_have_count(1)
    assert len(fake_llm.requests) == calls, "a keyword message does not reach the model"
    expect(visitor.locator("modelpilot-widget .mp-assistant .mp-feedback")).to_have_count(0)
    visitor.reload()
    open_widget(visitor)
    expect(visitor.locator(STATE)).to_have_text(re.compile("^Waiting for a person"))
    expect(visitor.get_by_role("button", name="Talk to a person")).to_be_hidden()
    watcher.check()
    context.close()

    # Closed every day: asking shows the offline message and changes nothing.
    closed = {**HANDOFF, "hours": {"timezone": "UTC", "weekly": {}}}
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}", json={"handoff": closed})
    context, visitor, watcher = visitor_page(chromium, host_site, server, bot)
    visitor.get_by_role("button", name="Talk to a person").click()
    expect(visitor.locator(STATE)).to_have_text("We are away right now.")
    expect(visitor.get_by_role("button", name="Talk to a person")).to_be_visible()
    watcher.check()
    context.close()


def test_any_conversation_can_be_taken_from_the_log(chromium, server, owner, shop, host_site, artifacts_dir) -> None:
    bot, _ = shop
    response = widget_chat(owner, bot["id"], "Where is my parcel?", session_id="d" * 32, origin=host_site.origin)
    assert response.status_code == 200
    agent = open_browsing(chromium, server.url, artifacts_dir / "dashboard")
    page = agent.page
    log_in(page, "anna@example.com")
    page.get_by_role("link", name="Conversations").click()
    page.get_by_role("link", name="Where is my parcel?").click()
    page.get_by_role("link", name="Take it in the inbox").click()
    expect(page.locator(".inbox-status")).to_have_text("with the bot")
    page.get_by_role("button", name="Take", exact=True).click()
    expect(page.locator(".inbox-status")).to_have_text("with Anna")
    expect(page.get_by_role("textbox", name="Reply")).to_be_focused()
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(section(page, "Assigned to me").locator(".inbox-item")).to_have_count(1)
    section(page, "Assigned to me").locator("a.inbox-link").click()
    page.get_by_role("button", name="Close").click()
    expect(page.locator(".inbox-status")).to_have_text("closed")
    expect(page.locator(".inbox-actions button")).to_have_count(0)
    expect(page.get_by_role("log", name="Messages").locator(".msg.system").last).to_have_text("Closed")
    agent.watcher.check()
    agent.close()
