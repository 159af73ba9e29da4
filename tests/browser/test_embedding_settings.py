"""The Embeddings card of the Providers page in Chromium, against the fake provider's
/v1/embeddings on 127.0.0.1: a model of the wrong size is refused under the Model field in the
server's words; a good one is saved and the knowledge re-embedded, with its progress shown;
the provider's key never reaches the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.harness import log_in_as_owner, open_browsing
from tests.fakes.llm import start_fake_llm
from tests.knowledge.conftest import add_text, create_bot, wait_done
from tests.support import Api

pytestmark = [pytest.mark.slow, pytest.mark.browser]

KEY = "sk-browser-embed-0123456789abcdef"


@pytest.fixture
def embedder():
    running = start_fake_llm()
    yield running
    running.stop()


def test_embeddings_card_refuses_a_wrong_size_by_the_field_then_reembeds(chromium, server, embedder, artifacts_dir):
    owner = Api(server.url)
    owner.setup_owner()
    owner.add_provider(owner.ws, "openai_compatible", KEY, embedder.url)
    bot = create_bot(owner)
    wait_done(owner, bot, add_text(owner, bot, "Parrots", "Parrots can live for eighty years.")["id"])

    b = open_browsing(chromium, server.url, artifacts_dir / "embeddings")
    b.watcher.allow(400, r"/api/v1/workspaces/[^/]+/embedding$")
    page = b.page
    log_in_as_owner(page)
    page.get_by_role("link", name="Providers").click()
    section = page.get_by_role("region", name="Embeddings")
    expect(section).to_contain_text("In use: Built-in model")
    model = section.get_by_label("Embedding model", exact=True)
    expect(model).to_be_hidden()

    section.get_by_label("Embedding", exact=True).select_option("provider")
    expect(section.get_by_label("Embedding provider", exact=True)).to_have_value("openai_compatible")
    model.fill("text-embedding-ada-002")
    section.get_by_role("button", name="Save embedding").click()
    error = section.locator("[data-field=model] .error")
    expect(error).to_contain_text("text-embedding-ada-002 returned 1536 numbers per text; ModelPilot stores 384")
    expect(section).to_contain_text("In use: Built-in model")

    model.fill("text-embedding-3-small")
    section.get_by_role("button", name="Save embedding").click()
    expect(section).to_contain_text("In use: text-embedding-3-small from openai_compatible")
    expect(section.get_by_role("status")).to_contain_text("Re-embedded: 1 of 1 chunks", timeout=30_000)
    assert KEY not in page.content()
    assert any("Parrots can live" in text for r in embedder.app.embedding_requests for text in r["input"])
    b.shoot("embeddings")
    b.close()
    owner.close()
