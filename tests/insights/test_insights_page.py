"""The dashboard's answer-quality pieces in Chromium: the Insights page groups the unanswered
questions and improves one into a correction, the conversation view shows why an answer may be
weak with its Improve button, and Analytics' resolution figures open the conversations behind them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.knowledge.conftest import wait_done
from tests.support import PASSWORD, Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ANSWER = "Open Settings, choose Security and press Reset password; the link arrives by e-mail."


def log_in(page) -> None:
    page.goto("/#/login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def test_insights_improve_and_resolution_links(browser, server_factory, artifacts_dir) -> None:  # noqa: F811
    live = server_factory()
    owner = Api(live.url)
    owner.setup_owner()
    bot = owner.create_bot(owner.ws, name="Help", model="builtin/extractive")
    first = owner.chat(owner.ws, bot["id"], "How do I reset my password?", session_id="s-one")[-1]
    owner.chat(owner.ws, bot["id"], "How can I reset my password?", session_id="s-two")
    b = open_browsing(browser, live.url, artifacts_dir / "insights")
    page = b.page
    log_in(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unanswered questions")
    group = page.locator(".insight-group")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("2×")
    expect(group).to_contain_text("no source over the threshold ×2")
    expect(group.get_by_role("link")).to_have_count(2)
    group.get_by_role("button", name="Improve the answer").click()
    dialog = page.get_by_role("dialog", name="Improve the answer")
    dialog.get_by_role("button", name="Save correction").click()  # empty: said at once, nothing sent
    expect(dialog).to_contain_text("is required")
    dialog.get_by_label("The right answer").fill(ANSWER)
    dialog.get_by_role("button", name="Save correction").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".toast").first).to_contain_text("Correction saved")
    [doc] = owner.ok("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/documents")
    assert doc["title"].startswith("Correction: How")
    wait_done(owner, bot["id"], doc["id"])
    again = owner.chat(owner.ws, bot["id"], "how to reset my password?", session_id="s-three")[-1]
    assert again["sources"][0]["document_id"] == doc["id"]

    # The conversation view: the weak answer says why, and editors can improve it from there.
    page.goto(f"/#/w/{owner.ws}/conversations/{first['conversation_id']}")
    answer = page.locator(f'[data-message="{first["message_id"]}"]')
    expect(answer).to_contain_text("May be weak:")
    expect(answer).to_contain_text("no source over the threshold")
    expect(answer.get_by_role("button", name="Improve")).to_be_visible()

    # Analytics: one of three conversations resolved; "Not resolved" opens the other two.
    page.goto(f"/#/w/{owner.ws}/analytics")
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    resolved = page.locator(".stat").filter(has_text=re.compile("^Resolved"))
    expect(resolved).to_contain_text("1 · 33.3 %")
    page.locator(".stat").filter(has_text="Not resolved").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversations")
    expect(page.get_by_label("Resolution")).to_have_value("false")
    expect(page.locator("tbody tr")).to_have_count(2)
    b.watcher.check()
    b.close()
