"""The widget in headless Chromium, embedded cross-origin in a host page, against the real server."""

from __future__ import annotations

import pytest

from modelpilot.rag import retrieve as rag
from tests.browser_support import HostSite, chromium, embed_page, host_site  # noqa: F401 (fixtures)
from tests.support import Api
from tests.widget_support import make_bot

pytestmark = pytest.mark.browser

LAUNCHER = "modelpilot-widget .mp-launcher"
WINDOW = "modelpilot-widget .mp-window"
BUDGET_GZIPPED = 6 * 1024
SOURCE = rag.RetrievedChunk(chunk_id="c1", document_id="d1", title="Opening hours", score=0.9,
                            text="We open at 9 and close at 17 on weekdays.", url="https://shop.example.com/hours")


@pytest.fixture
def knowledge(monkeypatch):
    """Retrieval finds one source. The knowledge index is another issue's work and the seam
    returns nothing until it lands, so this stands in for an indexed page."""
    async def retrieve(db, workspace_id, bot, query, *, top_k=None):
        return [SOURCE]

    monkeypatch.setattr(rag, "retrieve", retrieve)


@pytest.fixture
def site(server, owner, fake_llm, host_site: HostSite):
    bot = make_bot(owner, fake_llm, name="Shop helper", allowed_origins=[host_site.origin],
                   starter_questions=["When are you open?", "Do you ship abroad?"])
    return server, owner, bot, host_site


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1100, "height": 760})
    page = context.new_page()
    yield page
    context.close()


def open_widget(page) -> None:
    page.locator(LAUNCHER).click()
    page.locator(WINDOW).wait_for(state="visible")
    # Let the slide-in finish, so that sizes and screenshots show the window at rest.
    page.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot"
                           ".querySelector('.mp-window').getAnimations().length === 0")


def shadow_eval(page, script: str):
    return page.evaluate("(() => { const root = document.querySelector('modelpilot-widget').shadowRoot;"
                         f" return {script}; }})()")


def test_before_opening_only_the_small_loader_and_config_load(site, page) -> None:
    server, owner, bot, host = site
    loaded: list[tuple[str, int]] = []

    def record(response) -> None:
        if response.url.startswith(server.url):
            size = int(response.headers.get("content-length") or len(response.body()))
            loaded.append((response.url.split("?")[0].removeprefix(server.url), size))

    page.on("response", record)
    page.goto(host.page("/", embed_page(server.url, bot["id"])))
    page.locator(LAUNCHER).wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    paths = sorted(path for path, _ in loaded)
    assert paths == [f"/api/v1/widget/{bot['id']}/config", "/widget.js"]
    total = sum(size for _, size in loaded)
    assert total <= BUDGET_GZIPPED, f"{total} B loaded before opening, budget {BUDGET_GZIPPED} B"
    open_widget(page)
    assert any(path == "/widget-chat.js" for path, _ in loaded)


def test_visitor_asks_a_starter_question_and_everything_survives_a_reload(site, page, knowledge, artifacts_dir) -> None:
    server, owner, bot, host = site
    page.goto(host.page("/", embed_page(server.url, bot["id"])))
    page.locator(LAUNCHER).wait_for(state="visible")
    page.screenshot(path=str(artifacts_dir / "widget-bubble.png"))
    open_widget(page)
    assert page.locator("modelpilot-widget .mp-title").text_content() == "Shop helper"
    page.locator("modelpilot-widget .mp-chip", has_text="When are you open?").click()
    answer = page.locator("modelpilot-widget .mp-assistant").last
    answer.locator(".mp-feedback").wait_for()
    assert answer.locator(".mp-bubble").text_content().startswith("Hello from the fake model")
    citation = answer.locator(".mp-sources a")
    assert citation.text_content() == "Opening hours"
    assert citation.get_attribute("href") == "https://shop.example.com/hours"
    assert citation.get_attribute("rel") == "noopener noreferrer"
    answer.locator(".mp-up").click()
    page.wait_for_function("() => document.querySelector('modelpilot-widget').shadowRoot"
                           ".querySelector('.mp-up').getAttribute('aria-pressed') === 'true'")
    page.screenshot(path=str(artifacts_dir / "widget-open-light.png"))

    page.reload()
    open_widget(page)
    restored = page.locator("modelpilot-widget .mp-assistant").last
    restored.locator(".mp-feedback").wait_for()
    assert page.locator("modelpilot-widget .mp-user .mp-bubble").text_content() == "When are you open?"
    assert restored.locator(".mp-up").get_attribute("aria-pressed") == "true"
    assert restored.locator(".mp-sources a").text_content() == "Opening hours"
    assert page.locator("modelpilot-widget .mp-chip").count() == 0

    page.locator("modelpilot-widget .mp-reset").click()
    assert page.locator("modelpilot-widget .mp-user").count() == 0
    assert page.locator("modelpilot-widget .mp-chip").count() == 2


def test_dark_and_mobile_layouts(site, chromium, artifacts_dir) -> None:
    server, owner, bot, host = site
    url = host.page("/", embed_page(server.url, bot["id"]))
    dark = chromium.new_context(viewport={"width": 1100, "height": 760}, color_scheme="dark")
    page = dark.new_page()
    page.goto(url)
    open_widget(page)
    background = shadow_eval(page, "getComputedStyle(root.querySelector('.mp-window')).backgroundColor")
    assert background == "rgb(22, 26, 34)"
    page.screenshot(path=str(artifacts_dir / "widget-open-dark.png"))
    dark.close()
    # Reduced motion: the window appears without its slide-in animation, in place at once.
    phone = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                                 reduced_motion="reduce")
    page = phone.new_page()
    page.goto(url)
    open_widget(page)
    box = page.locator(WINDOW).bounding_box()
    assert box and (box["x"], box["y"], round(box["width"]), round(box["height"])) == (0, 0, 375, 740)  # full screen
    page.screenshot(path=str(artifacts_dir / "widget-mobile.png"))
    phone.close()
