"""The widget as a first-time visitor meets it: stopping a slow answer, the keyboard, labels,
colours, a wrong bot id, the length counter, feedback and citations (issue 14, items 5 and 7)."""

from __future__ import annotations

import time

import pytest

from tests.browser_support import LAUNCHER, WINDOW, HostSite, embed_page, open_widget, shadow_eval
from tests.knowledge.fixtures import make_pdf
from tests.support import Api, eventually
from tests.widget_support import make_bot

pytestmark = pytest.mark.browser

BOT_ACCENT = "rgb(15, 118, 110)"  # make_bot's #0f766e


@pytest.fixture
def bot(server, owner, fake_llm, host_site) -> dict:
    return make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin],
                    starter_questions=["When are you open?", "Do you ship abroad?"])


def embed(server, host: HostSite, bot_id: str, **parts: str) -> str:
    return host.page("/", embed_page(server.url, bot_id, **parts))


def ask(tab, text: str) -> None:
    tab.locator("modelpilot-widget .mp-input").fill(text)
    tab.locator("modelpilot-widget .mp-input").press("Enter")


def saved_answer(owner: Api, status: str, timeout: float = 20) -> dict:
    """The assistant message of the one widget conversation, once the server has saved it."""
    def answer() -> dict | None:
        listing = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations")
        items = listing["items"] if isinstance(listing, dict) else listing
        for conversation in items:
            detail = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/conversations/{conversation['id']}")
            for message in detail["messages"]:
                if message["role"] == "assistant" and message["status"] == status:
                    return message
        return None

    return eventually(answer, timeout=timeout, interval=0.2, what=f"saving a {status} answer")


def test_stop_cancels_a_slow_answer_and_keeps_what_was_said_marked(server, owner, bot, host_site, tab,
                                                                    artifacts_dir) -> None:
    tab.goto(embed(server, host_site, bot["id"]))
    open_widget(tab)
    ask(tab, "Tell me slowly [[stallmid]]")
    bubble = tab.locator("modelpilot-widget .mp-assistant .mp-bubble:not(.mp-typing)").last
    tab.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot"
                          ".querySelectorAll('.mp-assistant .mp-bubble')[1]?.textContent.length > 0")
    send = tab.get_by_role("button", name="Send")
    stop = tab.get_by_role("button", name="Stop the answer")
    assert stop.is_visible() and not send.is_visible()  # one button, which now stops
    partial = bubble.text_content()
    stop.click()
    note = tab.locator("modelpilot-widget .mp-assistant .mp-note")
    note.wait_for()
    assert note.text_content() == "Stopped"
    assert bubble.text_content() == partial and partial.startswith("Hello")
    assert send.is_visible() and not stop.is_visible()
    assert tab.locator("modelpilot-widget .mp-status").is_hidden()  # stopping is not an error
    assert saved_answer(owner, "partial")["content"] == partial
    tab.screenshot(path=str(artifacts_dir / "widget-stopped.png"))

    tab.reload()
    open_widget(tab)
    restored = tab.locator("modelpilot-widget .mp-assistant.mp-was-stopped")
    restored.locator(".mp-note").wait_for()
    assert restored.locator(".mp-bubble").text_content() == partial
    ask(tab, "And now in full")
    tab.locator("modelpilot-widget .mp-feedback").last.wait_for()  # the widget answers again after a stop


def test_launcher_label_dialog_name_input_size_and_focus(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot["id"]))
    launcher = tab.locator(LAUNCHER)
    launcher.wait_for()
    assert (launcher.get_attribute("aria-label"), launcher.get_attribute("title")) == ("Open chat", "Open chat")
    open_widget(tab)
    assert (launcher.get_attribute("aria-label"), launcher.get_attribute("title")) == ("Close chat", "Close chat")
    assert tab.get_by_role("dialog", name="Shop helper").is_visible()
    font_size = shadow_eval(tab, "parseFloat(getComputedStyle(root.querySelector('.mp-input')).fontSize)")
    assert font_size >= 16  # iOS zooms into smaller text fields
    assert shadow_eval(tab, "root.activeElement.className") == "mp-input"
    ring = shadow_eval(tab, "(s => [s.outlineStyle, parseFloat(s.outlineWidth)])"
                            "(getComputedStyle(root.querySelector('.mp-input')))")
    assert ring[0] != "none" and ring[1] >= 2, ring
    launcher.click()
    tab.locator(WINDOW).wait_for(state="hidden")
    assert launcher.get_attribute("aria-label") == "Open chat"


def test_tab_reaches_the_header_buttons_and_the_suggested_questions(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot["id"]))
    open_widget(tab)
    reached = []
    for _ in range(8):
        tab.keyboard.press("Tab")
        reached.append(shadow_eval(tab, "root.activeElement && (root.activeElement.getAttribute('aria-label')"
                                        " || root.activeElement.textContent)"))
    for name in ("New conversation", "Close chat", "When are you open?", "Do you ship abroad?", "Send"):
        assert name in reached, reached
    tab.keyboard.press("Shift+Tab")
    assert shadow_eval(tab, "root.activeElement !== null")  # focus stays in the chat window both ways
    for _ in range(8):
        tab.keyboard.press("Shift+Tab")
        assert shadow_eval(tab, "root.activeElement !== null")


@pytest.mark.parametrize("bad", ["notacolour", "#12345"])
def test_a_bad_accent_colour_falls_back_to_the_bots(server, bot, host_site, tab, bad) -> None:
    warnings = []
    tab.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    tab.goto(embed(server, host_site, bot["id"], attrs=f"data-accent-color='{bad}'"))
    tab.wait_for_function("want => { const b = document.querySelector('modelpilot-widget')?.shadowRoot"
                          ".querySelector('.mp-launcher'); return b && getComputedStyle(b).backgroundColor === want; }",
                          arg=BOT_ACCENT)
    open_widget(tab)
    assert shadow_eval(tab, "getComputedStyle(root.querySelector('.mp-header')).backgroundColor") == BOT_ACCENT
    assert any(bad in text and "not a colour" in text for text in warnings), warnings


@pytest.mark.parametrize("case", ["unknown id", "foreign site"])
def test_a_wrong_bot_id_says_so_in_the_console(server, owner, fake_llm, host_site, tab, case) -> None:
    if case == "unknown id":
        bot_id = "01NOSUCHBOT0000000000000000"
    else:
        bot_id = make_bot(owner, fake_llm, allowed_origins=["https://only-this-shop.example"])["id"]
    errors = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.goto(embed(server, host_site, bot_id))
    tab.locator("modelpilot-widget").wait_for(state="detached")
    deadline = time.monotonic() + 10
    while not any(bot_id in text for text in errors) and time.monotonic() < deadline:
        tab.wait_for_timeout(100)
    ours = [text for text in errors if text.startswith("ModelPilot:")]
    assert ours and bot_id in ours[0] and "data-bot-id" in ours[0] and host_site.origin in ours[0], errors


def test_a_long_message_shows_a_counter_before_the_cap(server, bot, host_site, tab, artifacts_dir) -> None:
    cap = server.settings.widget_max_message_chars
    tab.goto(embed(server, host_site, bot["id"]))
    open_widget(tab)
    counter = tab.locator("modelpilot-widget .mp-count")
    tab.locator("modelpilot-widget .mp-input").fill("a" * (cap // 2))
    assert counter.is_hidden()
    tab.locator("modelpilot-widget .mp-input").fill("a" * (cap - 100))
    assert counter.is_visible() and counter.text_content() == f"{cap - 100} / {cap}"
    tab.locator("modelpilot-widget .mp-input").press_sequentially("b" * 150)
    assert counter.text_content() == f"{cap} / {cap}"  # typing stops at the cap, and says so
    assert "mp-full" in counter.get_attribute("class")
    tab.screenshot(path=str(artifacts_dir / "widget-counter.png"))


def test_feedback_buttons_show_without_hovering(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot["id"]))
    open_widget(tab)
    ask(tab, "hello")
    tab.locator("modelpilot-widget .mp-feedback").wait_for()
    tab.mouse.move(0, 0)
    for selector in (".mp-up", ".mp-down"):
        button = tab.locator(f"modelpilot-widget {selector}")
        assert button.is_visible()
        looks = shadow_eval(tab, f"(s => [s.opacity, s.visibility, s.borderTopStyle])"
                                 f"(getComputedStyle(root.querySelector('{selector}')))")
        assert looks == ["1", "visible", "solid"], looks  # drawn, and outlined so it reads as a button


def test_pdf_sources_show_a_readable_title_and_the_page(server, owner, bot, host_site, tab, artifacts_dir) -> None:
    docs = f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents"
    pdf = make_pdf(["Our shop sells bicycles and spare parts.",
                    "Opening hours: the shop opens at nine and closes at six on weekdays."])
    doc = owner.ok("POST", docs, 202, files={"file": ("opening_hours_v2.pdf", pdf, "application/pdf")})
    eventually(lambda: owner.ok("GET", f"{docs}/{doc['id']}"), lambda doc: doc["status"] == "indexed", timeout=90,
               interval=0.2, what="indexing the PDF")
    tab.goto(embed(server, host_site, bot["id"]))
    open_widget(tab)
    ask(tab, "When does the shop open on weekdays?")
    answer = tab.locator("modelpilot-widget .mp-assistant").last
    answer.locator(".mp-feedback").wait_for()
    sources = answer.locator(".mp-sources li")
    tab.screenshot(path=str(artifacts_dir / "widget-pdf-source.png"))
    assert sources.first.text_content() == "Opening Hours V2, page 2"
    assert sources.first.locator("a").count() == 0  # a file has no page to link to
