"""The Test sets tab in Chromium: write cases (a bad one named under its field), run, read the
per-case results, and see a regression in the history after a document is deleted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import browser, log_in_as_owner, open_browsing  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SUNDAY = "When does the bakery open on Sundays?"


def fill_case(page: Page, number: int, question: str, source: str = "", words: str = "") -> None:
    case = page.get_by_role("group", name=f"Case {number}")
    case.get_by_label("Question").fill(question)
    case.get_by_label("Expected source").fill(source)
    case.get_by_label("Expected words").fill(words)


def test_test_sets_tab(browser, stocked, artifacts_dir):  # noqa: F811
    bench, ids = stocked
    b = open_browsing(browser, bench.live.url, artifacts_dir / "dashboard")
    page = b.page
    try:
        log_in_as_owner(page)
        page.goto(f"/#/w/{bench.api.ws}/bots/{bench.bot}")
        page.get_by_role("navigation", name="Chatbot sections").get_by_role("link", name="Test sets").click()
        expect(page.get_by_text("No test sets yet")).to_be_visible()
        page.get_by_role("button", name="New test set").click()
        page.get_by_label("Name", exact=True).fill("Opening times")
        fill_case(page, 1, f"[[echo]] {SUNDAY}", "Opening hours", "9 am, noon")
        page.get_by_role("button", name="Add case").click()
        fill_case(page, 2, SUNDAY, "Opening hours", "9 am")
        page.get_by_role("button", name="Add case").click()
        b.watcher.allow(400, r"/evals$")
        page.get_by_role("button", name="Create test set").click()
        error = page.get_by_role("group", name="Case 3").locator('.field[data-field="cases[2].question"] .error')
        expect(error).to_contain_text("Question 3 must not be empty")
        page.get_by_role("group", name="Case 3").get_by_role("button", name="Remove case").click()
        expect(page.get_by_role("group", name="Case 2").get_by_label("Question")).to_have_value(SUNDAY)  # kept
        page.get_by_role("button", name="Create test set").click()
        expect(page.get_by_role("row").filter(has_text="Opening times")).to_contain_text("2")

        runs = page.get_by_role("region", name="Runs")
        runs.get_by_role("button", name="Run now").click()
        expect(runs.get_by_role("row").nth(1)).to_contain_text("done", timeout=60_000)
        expect(runs.get_by_role("row").nth(1)).to_contain_text("50%")
        results = page.get_by_role("row").filter(has_text=re.compile("fail"))
        expect(results).to_contain_text("9 am")  # the missing word
        expect(page.get_by_role("row").filter(has_text=re.compile("pass"))).to_contain_text("found at rank 1")

        bench.api.ok("DELETE", f"{bench.base}/documents/{ids['Opening hours']}", 204)
        runs.get_by_role("button", name="Run now").click()
        expect(page.locator(".eval-history")).to_contain_text("Regression in the last run", timeout=60_000)
        expect(page.locator(".eval-history .dot.drop")).to_have_count(2)  # pass rate and Recall@k fell
        expect(page.get_by_role("row").filter(has_text=re.compile("fail"))).to_have_count(2)  # the newest run's results
        expect(page.get_by_role("row").filter(has_text="[[echo]]")).to_contain_text("not in the top 3")
        b.shoot("bot-test-sets")
        b.watcher.check()
    finally:
        b.close()
