"""Journey steps that need a provider, a bot and its knowledge: providers, bot editor with
preview, knowledge, widget, conversation log and analytics."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.harness import Browsing
from tests.browser.sample_pdf import make_pdf

FAKE_ANSWER = "Hello from the fake model"
INDEXING_TIMEOUT_MS = 90_000
LLM_TIMEOUT_MS = 45_000  # the first model call imports LiteLLM (seconds on a busy machine)


def go(b: Browsing, ws: str, section: str, heading: str | re.Pattern) -> None:
    b.page.goto(f"/#/w/{ws}/{section}")
    expect(b.page.get_by_role("heading", level=1)).to_have_text(heading)


def add_provider(b: Browsing, ws: str, fake_llm_url: str) -> None:
    page = b.page
    go(b, ws, "providers", "Providers")
    expect(page.get_by_text("No provider yet")).to_be_visible()
    page.get_by_label("Provider", exact=True).select_option("openai_compatible")
    page.get_by_label("API key", exact=True).fill("sk-test-0123456789abcdef")
    page.get_by_label("API base URL", exact=True).fill(fake_llm_url)
    page.get_by_role("button", name="Save provider").click()
    row = page.get_by_role("row", name=re.compile("openai_compatible"))
    expect(row).to_contain_text("...cdef")
    expect(row).not_to_contain_text("0123456789abcdef")
    row.get_by_role("button", name="Test connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Run test").click()
    # Nothing typed: the server's first listed model is tested.
    expect(dialog.locator(".test-dialog-result")).to_contain_text("OK · openai_compatible/fake-model", timeout=LLM_TIMEOUT_MS)
    dialog.get_by_label("Model to test with").fill("openai_compatible/fake-large")
    dialog.get_by_role("button", name="Run test").click()
    expect(dialog.locator(".test-dialog-result")).to_contain_text("OK · openai_compatible/fake-large", timeout=LLM_TIMEOUT_MS)
    b.shoot("providers-test")
    page.keyboard.press("Escape")
    expect(row.locator(".test-result")).to_contain_text("OK")
    expect(row.get_by_role("button", name="Test connection")).to_be_focused()  # back where the dialog opened
    b.shoot("providers")


def create_bot(b: Browsing, ws: str) -> str:
    page = b.page
    go(b, ws, "bots", "Chatbots")
    b.shoot("bots-empty")
    page.get_by_role("link", name="New chatbot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New chatbot")
    model = page.get_by_label("Model", exact=True)
    # The model is picked from the connected server's own list, and a new bot starts on its model.
    expect(model).to_have_value("openai_compatible/fake-model")
    expect(model.locator("option")).to_contain_text(["openai_compatible/fake-model", "openai_compatible/fake-large"])
    page.get_by_label("Name", exact=True).fill("Support bot")
    page.get_by_label("Temperature").fill("5")
    page.get_by_label("Max answer tokens").fill("0")
    page.get_by_role("button", name="Create chatbot").click()
    # Both bad fields are marked at once, in plain words under each field; focus goes to the first.
    expect(page.locator('[data-field="temperature"] .error')).to_have_text("Temperature must be at most 2.")
    expect(page.locator('[data-field="max_tokens"] .error')).to_have_text("Max answer tokens must be at least 1.")
    expect(page.get_by_label("Max answer tokens")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Temperature")).to_be_focused()
    expect(page.locator(".form-error")).to_have_count(0)
    b.shoot("bot-errors")
    page.get_by_label("Temperature").fill("0.2")
    page.get_by_label("Max answer tokens").fill("800")
    # Free text stays possible, but a model of a provider that is not connected is refused on save.
    model.select_option("__other")
    page.get_by_label("Model name").fill("anthropic/claude-3-5-haiku-latest")
    page.get_by_role("button", name="Create chatbot").click()
    expect(page.locator('[data-field="model"] .error')).to_contain_text("needs the 'anthropic' provider")
    expect(page.get_by_label("Temperature")).not_to_have_attribute("aria-invalid", "true")
    model.select_option("openai_compatible/fake-model")
    page.get_by_role("button", name="Create chatbot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support bot")
    expect(page.get_by_label("Model", exact=True)).to_have_value("openai_compatible/fake-model")
    return re.search(r"/bots/([^/?]+)", page.url).group(1)


def add_knowledge(b: Browsing, ws: str, bot: str, tmp_dir) -> None:
    page = b.page
    go(b, ws, f"bots/{bot}/knowledge", "Support bot")
    page.get_by_label("Question 1").fill("What is the refund window?")
    page.get_by_label("Answer 1").fill("Refunds are accepted within 30 days of delivery.")
    page.get_by_role("button", name="Add another pair").click()
    page.get_by_label("Question 2").fill("Do you ship abroad?")
    page.get_by_label("Answer 2").fill("We ship to every country in the European Union.")
    page.get_by_role("button", name="Save FAQ").click()
    expect(page.get_by_text("FAQ with 2 pairs added.")).to_be_visible()
    pdf = tmp_dir / "shipping-policy.pdf"
    pdf.write_bytes(make_pdf(["Shipping policy", "Parcels leave our warehouse within two working days.",
                              "Express delivery costs 9 euros and arrives the next day."]))
    page.locator("#upload-input").set_input_files(str(pdf))
    expect(page.locator(".upload-list li", has_text="shipping-policy.pdf")).to_contain_text("uploaded")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("indexed", timeout=INDEXING_TIMEOUT_MS)
    b.shoot("knowledge")
    page.get_by_label("Title", exact=True).fill("Opening hours")
    page.get_by_label("Text", exact=True).fill("The shop is open from nine to five on weekdays.")
    page.get_by_role("button", name="Add text").click()
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="Opening hours")).to_contain_text("indexed", timeout=INDEXING_TIMEOUT_MS)
    page.get_by_role("button", name="Delete Opening hours").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Chunks of Shipping Policy").click()  # the readable title of shipping-policy.pdf
    expect(page.get_by_role("dialog")).to_contain_text("Parcels leave our warehouse")
    b.shoot("knowledge-chunks")
    page.keyboard.press("Escape")
    page.get_by_label("Question", exact=True).fill("How long does shipping take?")
    page.get_by_role("button", name="Search knowledge").click()
    expect(page.locator(".search-hit").first).to_contain_text("warehouse")
    b.shoot("knowledge-test")


def preview_answer(b: Browsing, ws: str, bot: str) -> None:
    page = b.page
    go(b, ws, f"bots/{bot}", "Support bot")
    page.get_by_label("Message to the bot").fill("How long does shipping take?")
    page.get_by_label("Message to the bot").press("Enter")
    answer = page.locator(".msg.assistant[data-done=true]").last
    expect(answer).to_contain_text(FAKE_ANSWER, timeout=LLM_TIMEOUT_MS)
    expect(answer.locator(".citation").first).to_be_visible()
    b.shoot("bot-editor")


def widget_page(b: Browsing, ws: str, bot: str) -> None:
    page = b.page
    go(b, ws, f"bots/{bot}/widget", "Support bot")
    expect(page.get_by_text("Any website can embed this bot.")).to_be_visible()
    page.get_by_role("button", name="Copy snippet").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert f'data-bot-id="{bot}"' in copied and copied.endswith("widget.js\" data-bot-id=\"" + bot + "\" async></script>")
    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save widget").click()
    expect(page.get_by_text("Widget saved.")).to_be_visible()
    widget = page.frame_locator("iframe.widget-stage")
    widget.get_by_label("Your message").fill("Do you ship abroad?")
    widget.get_by_label("Your message").press("Enter")
    expect(widget.locator(".mp-msg.mp-assistant").last).to_contain_text(FAKE_ANSWER, timeout=LLM_TIMEOUT_MS)
    b.shoot("widget")


def conversation_log(b: Browsing, ws: str) -> None:
    page = b.page
    go(b, ws, "conversations", "Conversations")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)  # the preview's and the widget's
    # Each row says what was asked first, where, how long it went and how it was rated.
    preview_row = rows.filter(has_text="How long does shipping take?")
    expect(preview_row).to_contain_text("preview")
    expect(preview_row.locator('td[data-label="Messages"]')).to_have_text("2")
    expect(rows.filter(has_text="Do you ship abroad?")).to_contain_text("widget")
    page.get_by_label("Feedback", exact=True).select_option("down")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No conversations match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(2)
    page.get_by_label("Only unanswered").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No conversations match these filters")).to_be_visible()  # both found their sources
    page.get_by_label("Only unanswered").uncheck()
    page.get_by_label("Search").fill("shipping take")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("preview")
    b.shoot("conversations")
    export = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert "q=shipping+take" in export or "q=shipping%20take" in export
    csv = page.request.get(export)
    assert csv.ok and "How long does shipping take?" in csv.text() and "Do you ship abroad?" not in csv.text()
    page.get_by_label("Search").fill("no such words anywhere")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No conversations match these filters")).to_be_visible()
    page.get_by_label("Search").fill("shipping take")
    page.get_by_role("button", name="Apply").click()
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversation with Support bot")
    expect(page.locator("article.msg.assistant")).to_contain_text(FAKE_ANSWER)
    expect(page.locator("article.msg.assistant .citation").first).to_be_visible()
    b.shoot("conversation")


def analytics(b: Browsing, ws: str) -> None:
    page = b.page
    go(b, ws, "analytics", "Analytics")
    expect(page.locator(".stat", has_text="Messages").locator(".value")).to_have_text("2")
    expect(page.locator(".stat", has_text="Cost").locator(".value")).to_have_text(re.compile(r"^\$\d+\.\d{4}$"))
    # A month of daily points is not ninety tab stops: each chart is one, and arrow keys move inside.
    charts = page.locator(".chart svg")
    expect(page.locator(".chart [tabindex]")).to_have_count(charts.count())
    daily = page.locator(".chart", has_text="Messages and conversations per day")
    daily.locator("svg").focus()
    page.keyboard.press("End")
    expect(daily.locator(".tooltip")).to_contain_text("Messages: 2")
    expect(daily.locator(".chart-live")).to_have_text(daily.locator(".tooltip").inner_text())
    page.keyboard.press("ArrowDown")
    expect(daily.locator(".tooltip")).to_contain_text("Conversations: 2")
    page.keyboard.press("ArrowLeft")
    expect(daily.locator(".dot.active")).to_have_count(1)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"  # out of the chart in one step
    by_bot = page.locator(".chart", has_text="Messages by chatbot")
    by_bot.locator("svg").focus()
    expect(by_bot.locator(".tooltip:not([hidden])")).to_have_text("Support bot: 2")
    page.keyboard.press("ArrowRight")  # one bar only: stays on it
    expect(by_bot.locator(".tooltip:not([hidden])")).to_have_text("Support bot: 2")
    b.shoot("analytics")
    go(b, ws, "overview", "Overview")
    expect(page.locator(".stat", has_text="Conversations").locator(".value")).to_have_text("2")
    b.shoot("overview-with-usage")


def viewer_sees_bot_read_only(b: Browsing, ws: str, bot: str) -> None:
    page = b.page
    go(b, ws, "bots", "Chatbots")
    expect(page.get_by_role("link", name="New chatbot")).to_have_count(0)
    b.shoot("viewer-bots")
    go(b, ws, f"bots/{bot}", "Support bot")
    expect(page.get_by_role("button", name="Save changes")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete chatbot")).to_have_count(0)
    expect(page.get_by_label("System prompt")).to_be_disabled()
    expect(page.get_by_label("Model", exact=True)).to_be_disabled()
    expect(page.get_by_label("Model", exact=True)).to_have_value("openai_compatible/fake-model")
    expect(page.get_by_role("note").filter(has_text="View only")).to_be_visible()
    assert page.get_by_label("System prompt").evaluate("el => getComputedStyle(el).borderStyle") == "dashed"
    go(b, ws, f"bots/{bot}/knowledge", "Support bot")
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_text("Drag PDF")).to_have_count(0)
    for name in ("Save FAQ", "Add text", "Add URL", re.compile("^Delete "), re.compile("^Reindex ")):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    b.shoot("viewer-knowledge")
    go(b, ws, "providers", "Providers")
    expect(page.get_by_role("button", name="Save provider")).to_have_count(0)
    expect(page.get_by_role("button", name="Test connection")).to_have_count(0)
    go(b, ws, f"bots/{bot}/widget", "Support bot")
    expect(page.get_by_role("button", name="Save widget")).to_have_count(0)
    expect(page.get_by_role("button", name="Copy snippet")).to_be_visible()
