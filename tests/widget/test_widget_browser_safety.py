"""The widget against hostile pages and hostile text, and its keyboard, error and scroll behaviour."""

from __future__ import annotations

import pytest

from tests.browser_support import (LAUNCHER, SOURCE_URL, WINDOW, HostSite, embed_page, open_widget,
                                   retrieval_finds, shadow_eval)
from tests.support import Api
from tests.widget_support import make_bot

pytestmark = pytest.mark.browser

HOSTILE_CSS = (
    "<style>* { all: unset } div { display: none !important } html { font-size: 4px }"
    " button { background: red !important; width: 3px !important }"
    " modelpilot-widget { display: none !important; opacity: 0 !important }</style>"
)
PROBE_STYLES = """() => ['#probe', '#host-button', 'body', 'h1'].map(sel => {
  const s = getComputedStyle(document.querySelector(sel));
  return [sel, s.font, s.color, s.backgroundColor, s.margin, s.padding, s.display, s.boxSizing];
})"""


def embed(server, host: HostSite, bot: dict, path: str = "/", **parts: str) -> str:
    return host.page(path, embed_page(server.url, bot["id"], **parts))


@pytest.fixture
def bot(server, owner, fake_llm, host_site) -> dict:
    return make_bot(owner, fake_llm, allowed_origins=[host_site.origin])


def ask(tab, text: str) -> None:
    tab.locator("modelpilot-widget .mp-input").fill(text)
    tab.locator("modelpilot-widget .mp-input").press("Enter")


def wait_for_answer(tab, count: int = 1) -> None:
    tab.wait_for_function("n => document.querySelector('modelpilot-widget').shadowRoot"
                           ".querySelectorAll('.mp-feedback').length >= n", arg=count)


def test_hostile_host_css_does_not_break_the_widget(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot, head=HOSTILE_CSS))
    launcher = tab.locator(LAUNCHER)
    launcher.wait_for(state="visible")
    box = launcher.bounding_box()
    assert box and (round(box["width"]), round(box["height"])) == (56, 56)
    assert round(box["x"] + box["width"]) == 1100 - 20 and round(box["y"] + box["height"]) == 760 - 20
    open_widget(tab)
    window = tab.locator(WINDOW).bounding_box()
    assert window and round(window["width"]) == 380
    font_size = shadow_eval(tab, "getComputedStyle(root.querySelector('.mp-bubble')).fontSize")
    assert font_size == "15px"
    ask(tab, "Hello?")
    wait_for_answer(tab)
    assert "Hello from the fake model" in tab.locator("modelpilot-widget .mp-assistant").last.text_content()


def test_widget_styles_do_not_touch_the_host_page(server, bot, host_site, tab) -> None:
    tab.goto(host_site.page("/plain", embed_page(server.url, bot["id"]).replace("widget.js", "nothing.js")))
    before = tab.evaluate(PROBE_STYLES)
    sheets_before = tab.evaluate("document.styleSheets.length")
    tab.goto(embed(server, host_site, bot))
    open_widget(tab)
    assert tab.evaluate(PROBE_STYLES) == before
    assert tab.evaluate("document.styleSheets.length") == sheets_before
    added = tab.evaluate("[...document.body.children].map(e => e.tagName.toLowerCase())")
    assert added[-1] == "modelpilot-widget" and "style" not in added


def test_html_and_script_links_in_bot_and_model_text_render_as_harmless_text(server, owner, fake_llm, host_site,
                                                                             tab, knowledge) -> None:
    greeting = "<img src=x onerror=\"window.__pwned='greeting'\"> Hi"
    bot = make_bot(owner, fake_llm, allowed_origins=[host_site.origin], greeting=greeting)
    tab.goto(embed(server, host_site, bot))
    open_widget(tab)
    hostile = ("[[echo]] <img src=x onerror=window.__pwned=1> [click me](javascript:window.__pwned=2) "
               "<a href=javascript:window.__pwned=3>x</a> **bold** see [1] and https://example.com/page")
    ask(tab, hostile)
    wait_for_answer(tab)
    answer = tab.locator("modelpilot-widget .mp-assistant").last
    assert "<img src=x onerror=window.__pwned=1>" in answer.text_content()
    assert "[click me](javascript:window.__pwned=2)" in answer.text_content()
    assert greeting in tab.locator("modelpilot-widget .mp-assistant").first.text_content()
    assert shadow_eval(tab, "root.querySelectorAll('img, script, iframe').length") == 0
    assert tab.evaluate("window.__pwned") is None
    links = shadow_eval(tab, "[...root.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.rel, a.className])")
    assert links, "the answer's URL, citation and source should be links"
    for href, rel, _ in links:
        assert href.startswith(("https://", "http://")) and rel == "noopener noreferrer"
    assert ["https://example.com/page", "noopener noreferrer", ""] in links
    assert [SOURCE_URL, "noopener noreferrer", "mp-cite"] in links  # [1] became a citation
    assert answer.locator("strong", has_text="bold").count() == 1


def test_keyboard_enter_sends_shift_enter_breaks_escape_closes(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot))
    tab.locator(LAUNCHER).focus()
    tab.keyboard.press("Enter")
    tab.locator(WINDOW).wait_for(state="visible")
    assert shadow_eval(tab, "root.activeElement.className") == "mp-input"
    tab.keyboard.type("line one")
    tab.keyboard.press("Shift+Enter")
    tab.keyboard.type("line two")
    tab.keyboard.press("Enter")
    wait_for_answer(tab)
    assert tab.locator("modelpilot-widget .mp-user .mp-bubble").text_content() == "line one\nline two"
    tab.keyboard.press("Escape")
    tab.locator(WINDOW).wait_for(state="hidden")
    assert shadow_eval(tab, "root.activeElement.className") == "mp-launcher"
    assert tab.locator(LAUNCHER).get_attribute("aria-expanded") == "false"


def test_a_refused_message_shows_a_human_message_and_a_retry(server_factory, fake_llm, host_site, tab) -> None:
    live = server_factory(widget_session_messages_per_minute=1)
    owner = Api(live.url)
    owner.setup_owner()
    bot = make_bot(owner, fake_llm, allowed_origins=[host_site.origin])
    owner.close()
    tab.goto(embed(live, host_site, bot))
    open_widget(tab)
    ask(tab, "first")
    wait_for_answer(tab)
    ask(tab, "second")
    status = tab.locator("modelpilot-widget .mp-status")
    status.wait_for(state="visible")
    assert "Too many messages" in status.text_content()
    assert status.get_attribute("role") == "alert"
    assert tab.locator("modelpilot-widget .mp-retry").is_visible()


def test_reading_back_is_not_interrupted_by_new_text(server, bot, host_site, tab) -> None:
    tab.goto(embed(server, host_site, bot))
    open_widget(tab)
    ask(tab, "Tell me everything [[long]]")
    wait_for_answer(tab)
    at_bottom = "root.querySelector('.mp-log').scrollHeight - root.querySelector('.mp-log').scrollTop" \
                " - root.querySelector('.mp-log').clientHeight < 2"
    assert shadow_eval(tab, at_bottom)  # followed the answer while the visitor was at the bottom
    ask(tab, "And slowly [[slow]]")
    tab.locator("modelpilot-widget .mp-assistant .mp-bubble:not(.mp-typing)").nth(2).wait_for()
    shadow_eval(tab, "(root.querySelector('.mp-log').scrollTop = 0, root.querySelector('.mp-log')"
                      ".dispatchEvent(new Event('scroll')))")
    wait_for_answer(tab, 2)
    assert shadow_eval(tab, "root.querySelector('.mp-log').scrollTop") == 0


def test_inline_mode_renders_into_the_given_container(server, bot, host_site, tab) -> None:
    container = "<section id=chat style='width:420px;height:520px'></section>"
    tab.goto(embed(server, host_site, bot, body=container, attrs="data-mode=inline data-target='#chat'"))
    window = tab.locator(WINDOW)
    window.wait_for(state="visible")
    assert tab.locator(LAUNCHER).count() == 0
    box, frame = window.bounding_box(), tab.locator("#chat").bounding_box()
    assert box and frame and (box["x"], box["y"], box["width"]) == (frame["x"], frame["y"], frame["width"])
    ask(tab, "inline hello")
    wait_for_answer(tab)


@pytest.mark.parametrize("refusal", ["foreign origin", "unpublished"])
def test_nothing_stays_on_a_page_the_bot_refuses(server, owner, fake_llm, host_site, tab, refusal) -> None:
    if refusal == "foreign origin":
        bot = make_bot(owner, fake_llm, allowed_origins=["https://only-this-shop.example"])
    else:
        bot = make_bot(owner, fake_llm, allowed_origins=[host_site.origin], published=False)
    tab.goto(embed(server, host_site, bot))
    tab.wait_for_load_state("networkidle")
    tab.locator("modelpilot-widget").wait_for(state="detached")
    assert tab.evaluate("localStorage.length") == 0


def test_an_upstream_failure_shows_a_message_and_retry_sends_again(server, bot, host_site, tab, fake_llm) -> None:
    tab.goto(embed(server, host_site, bot))
    open_widget(tab)
    ask(tab, "Break please [[fail500]]")
    status = tab.locator("modelpilot-widget .mp-status")
    status.wait_for(state="visible")
    assert status.text_content().strip() != ""
    calls = len(fake_llm.requests)
    tab.locator("modelpilot-widget .mp-retry").click()
    status.wait_for(state="visible")
    assert len(fake_llm.requests) > calls  # the retry asked again
    assert tab.locator("modelpilot-widget .mp-user").count() == 1  # without a second copy of the question


def test_strings_theme_colour_and_pdf_citations_follow_the_page_options(server, bot, host_site, tab, monkeypatch) -> None:
    retrieval_finds(monkeypatch, document_id="d2", title="Handbuch.pdf", text="Seite vier.", url=None, page=4)
    config = ("<script>window.ModelPilotConfig = {theme: 'dark', strings: {openLabel: 'Chat öffnen',"
              " placeholder: 'Ihre Nachricht', page: 'Seite', helpful: 'Hilfreich'}};</script>")
    tab.goto(embed(server, host_site, bot, head=config, attrs="data-accent-color='#ffeb3b'"))
    assert tab.locator(LAUNCHER).get_attribute("aria-label") == "Chat öffnen"
    launcher = shadow_eval(tab, "[getComputedStyle(root.querySelector('.mp-launcher')).backgroundColor,"
                                " getComputedStyle(root.querySelector('.mp-launcher')).color]")
    assert launcher == ["rgb(255, 235, 59)", "rgb(17, 24, 39)"]  # the tag's colour; dark icon on yellow
    open_widget(tab)
    assert tab.locator("modelpilot-widget .mp-input").get_attribute("placeholder") == "Ihre Nachricht"
    assert shadow_eval(tab, "getComputedStyle(root.querySelector('.mp-window')).backgroundColor") == "rgb(22, 26, 34)"
    ask(tab, "Wo steht das?")
    wait_for_answer(tab)
    source = tab.locator("modelpilot-widget .mp-sources li").first
    assert source.text_content() == "Handbuch.pdf, Seite 4"
    assert source.locator("a").count() == 0  # no URL: named, not linked
    assert tab.locator("modelpilot-widget .mp-up").get_attribute("aria-label") == "Hilfreich"
