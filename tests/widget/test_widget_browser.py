"""The widget in headless Chromium, embedded cross-origin in a host page, against the real server."""

from __future__ import annotations

import pytest

from tests.browser_support import LAUNCHER, WINDOW, HostSite, embed_page, open_widget, shadow_eval
from tests.widget_support import make_bot

pytestmark = pytest.mark.browser

BUDGET_GZIPPED = 6 * 1024


@pytest.fixture
def site(server, owner, fake_llm, host_site: HostSite):
    bot = make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin],
                   starter_questions=["When are you open?", "Do you ship abroad?"])
    return server, owner, bot, host_site


def test_before_opening_only_the_small_loader_and_config_load(site, tab) -> None:
    server, owner, bot, host = site
    loaded: list[tuple[str, int]] = []

    def record(response) -> None:
        if response.url.startswith(server.url):
            size = int(response.headers.get("content-length") or len(response.body()))
            loaded.append((response.url.split("?")[0].removeprefix(server.url), size))

    tab.on("response", record)
    tab.goto(host.page("/", embed_page(server.url, bot["id"])))
    tab.locator(LAUNCHER).wait_for(state="visible")
    tab.wait_for_load_state("networkidle")
    paths = sorted(path for path, _ in loaded)
    assert paths == [f"/api/v1/widget/{bot['id']}/config", "/widget.js"]
    total = sum(size for _, size in loaded)
    assert total <= BUDGET_GZIPPED, f"{total} B loaded before opening, budget {BUDGET_GZIPPED} B"
    open_widget(tab)
    assert any(path == "/widget-chat.js" for path, _ in loaded)


def test_visitor_asks_a_starter_question_and_everything_survives_a_reload(site, tab, knowledge, artifacts_dir) -> None:
    server, owner, bot, host = site
    tab.goto(host.page("/", embed_page(server.url, bot["id"])))
    tab.locator(LAUNCHER).wait_for(state="visible")
    tab.screenshot(path=str(artifacts_dir / "widget-bubble.png"))
    open_widget(tab)
    assert tab.locator("modelpilot-widget .mp-title").text_content() == "Shop helper"
    tab.locator("modelpilot-widget .mp-chip", has_text="When are you open?").click()
    answer = tab.locator("modelpilot-widget .mp-assistant").last
    answer.locator(".mp-feedback").wait_for()
    assert answer.locator(".mp-bubble").text_content().startswith("Hello from the fake model")
    citation = answer.locator(".mp-sources a")
    assert citation.text_content() == "Opening hours"
    assert citation.get_attribute("href") == "https://shop.example.com/hours"
    assert citation.get_attribute("rel") == "noopener noreferrer"
    answer.locator(".mp-up").click()
    tab.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot"
                           ".querySelector('.mp-up').getAttribute('aria-pressed') === 'true'")
    tab.screenshot(path=str(artifacts_dir / "widget-open-light.png"))

    tab.reload()
    open_widget(tab)
    restored = tab.locator("modelpilot-widget .mp-assistant").last
    restored.locator(".mp-feedback").wait_for()
    assert tab.locator("modelpilot-widget .mp-user .mp-bubble").text_content() == "When are you open?"
    assert restored.locator(".mp-up").get_attribute("aria-pressed") == "true"
    assert restored.locator(".mp-sources a").text_content() == "Opening hours"
    assert tab.locator("modelpilot-widget .mp-chip").count() == 0

    tab.locator("modelpilot-widget .mp-reset").click()
    assert tab.locator("modelpilot-widget .mp-user").count() == 0
    assert tab.locator("modelpilot-widget .mp-chip").count() == 2


def test_dark_and_mobile_layouts(site, chromium, artifacts_dir) -> None:
    server, owner, bot, host = site
    url = host.page("/", embed_page(server.url, bot["id"]))
    dark = chromium.new_context(viewport={"width": 1100, "height": 760}, color_scheme="dark")
    tab = dark.new_page()
    tab.goto(url)
    open_widget(tab)
    background = shadow_eval(tab, "getComputedStyle(root.querySelector('.mp-window')).backgroundColor")
    assert background == "rgb(22, 26, 34)"
    tab.screenshot(path=str(artifacts_dir / "widget-open-dark.png"))
    dark.close()
    # Reduced motion: the window appears without its slide-in animation, in place at once.
    phone = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                 reduced_motion="reduce")
    tab = phone.new_page()
    tab.goto(url)
    open_widget(tab)
    box = tab.locator(WINDOW).bounding_box()
    assert box and (box["x"], box["y"], round(box["width"]), round(box["height"])) == (0, 0, 375, 740)  # full screen
    tab.screenshot(path=str(artifacts_dir / "widget-mobile.png"))
    phone.close()
