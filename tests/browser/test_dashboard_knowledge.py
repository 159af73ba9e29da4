"""The knowledge page and the preview in Chromium, as an editor feeding a bot (issue 14, items 5
and 6): failures say why at once, results show rank and page, FAQ sets are named and edited
(and re-indexed), titles are readable and editable, and the preview cites like the widget."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import browser, open_browsing  # noqa: F401 (fixture)
from tests.knowledge.fixtures import image_only_pdf, make_pdf
from tests.support import PASSWORD, Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]

INDEXED_MS = 90_000
CARE_GUIDE = ["Our bicycles are built in Utrecht from steel frames.",
              "Chain care: oil the chain every two hundred kilometres and wipe off the excess oil."]


def log_in(page) -> None:
    page.goto("/#/login")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")


def test_editor_sees_failures_ranks_pages_and_edits_knowledge(browser, server_factory, artifacts_dir,  # noqa: F811
                                                                 tmp_path) -> None:
    live = server_factory()
    owner = Api(live.url)
    owner.setup_owner()
    bot = owner.create_bot(owner.ws, name="Bike shop", model="builtin/extractive")
    b = open_browsing(browser, live.url, artifacts_dir / "dashboard")
    b.watcher.allow(415, r"/documents$")
    page = b.page
    log_in(page)
    page.goto(f"/#/w/{owner.ws}/bots/{bot['id']}/knowledge")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bike shop")

    # A refused upload and an upload that cannot be indexed both say why, with no full bar.
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "scan.pdf").write_bytes(image_only_pdf())
    (tmp_path / "care_guide_v2.pdf").write_bytes(make_pdf(CARE_GUIDE))
    for name in ("photo.png", "scan.pdf", "care_guide_v2.pdf"):
        page.locator("#upload-input").set_input_files(str(tmp_path / name))
    uploads = page.locator(".upload-list li")
    refused = uploads.filter(has_text="photo.png")
    expect(refused).to_contain_text("Unsupported file type")
    expect(refused.locator("progress")).to_have_count(0)
    scan = uploads.filter(has_text="scan.pdf")
    expect(scan).to_contain_text("could not be indexed", timeout=INDEXED_MS)
    expect(scan).to_contain_text("is it a scan")
    expect(scan.locator("progress")).to_have_count(0)
    rows = page.locator("tbody tr")
    guide = rows.filter(has_text="Care Guide V2")  # a readable title, the file name under it
    expect(guide).to_contain_text("care_guide_v2.pdf")
    expect(guide).to_contain_text("indexed", timeout=INDEXED_MS)
    expect(uploads.filter(has_text="care_guide_v2.pdf")).to_contain_text("uploaded · indexed")

    # An address that cannot resolve fails within seconds, with the reason in its row.
    page.get_by_label("URL", exact=True).fill("http://no-such-host.invalid/help")
    page.get_by_role("button", name="Add URL").click()
    failed = rows.filter(has_text="no-such-host.invalid")
    expect(failed).to_contain_text("does not exist", timeout=15_000)
    expect(failed.locator("progress")).to_have_count(0)

    # A named FAQ set, then edited: the new answer is what search finds.
    page.get_by_label("Name of this FAQ").fill("Shipping questions")
    page.get_by_label("Question 1").fill("Do you ship bicycles to Norway?")
    page.get_by_label("Answer 1").fill("Yes, in 4 to 6 days.")
    page.get_by_role("button", name="Save FAQ").click()
    faq = rows.filter(has_text="Shipping questions")
    expect(faq).to_contain_text("indexed", timeout=INDEXED_MS)
    page.get_by_role("button", name="Edit Shipping questions").click()
    dialog = page.get_by_role("dialog", name=re.compile("Edit"))
    expect(dialog.get_by_label("Answer 1")).to_have_value("Yes, in 4 to 6 days.")
    dialog.get_by_label("Answer 1").fill("Yes, in 2 to 3 days since March.")
    b.shoot("knowledge-edit-faq")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Re-indexing…")).to_be_visible()
    expect(faq).to_contain_text("indexed", timeout=INDEXED_MS)
    page.get_by_label("Question", exact=True).fill("shipping bicycles to Norway")
    page.get_by_role("button", name="Search knowledge").click()
    first = page.locator(".search-hit").first
    expect(first).to_contain_text("#1")
    expect(first).to_contain_text("2 to 3 days")

    # Results in rank order, with the page they come from; then a better title for the guide.
    page.get_by_label("Question", exact=True).fill("how often should I oil the chain")
    page.get_by_role("button", name="Search knowledge").click()
    expect(first).to_contain_text("#1")
    expect(first.locator(".hit-page")).to_have_text("page 2")
    expect(first.locator(".hit-title")).to_have_text("Care Guide V2")
    # Explain: how it ranked, as the search API's explain=1 says (vector score and rank, fused score).
    explained = owner.get(f"/api/v1/workspaces/{owner.ws}/chatbots/{bot['id']}/search",
                          params={"q": "how often should I oil the chain", "k": 5, "explain": 1}).json()["results"][0]
    expect(first.locator(".explain-vector")).to_have_text(
        f"{explained['vector_score']:.3f} (#{explained['vector_rank']})" if explained["vector_rank"]
        else f"{explained['vector_score']:.3f} (—)")
    expect(first.locator(".explain-fused")).to_have_text(f"{explained['fused_score']:.4f}")
    expect(first.locator(".hit-passed")).to_have_text("used")
    b.shoot("knowledge-test-ranked")
    page.get_by_role("button", name="Edit Care Guide V2").click()
    page.get_by_role("dialog").get_by_label("Title").fill("Bicycle care guide")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_text("Title saved.")).to_be_visible()
    expect(rows.filter(has_text="Bicycle care guide")).to_have_count(1)

    # The preview cites the document as the widget does: its title and page.
    page.goto(f"/#/w/{owner.ws}/bots/{bot['id']}")
    page.get_by_label("Message to the bot").fill("How often should I oil the chain?")
    page.get_by_label("Message to the bot").press("Enter")
    answer = page.locator(".msg.assistant[data-done=true]").last
    expect(answer.locator(".citation").first).to_have_text("Bicycle care guide, page 2", timeout=45_000)
    b.watcher.check()
    b.close()
    owner.close()
