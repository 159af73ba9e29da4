"""Provider embeddings on a fleet: a change made on one node re-embeds once, whichever node's
worker claims the job, and every node then searches with the new embedding."""

from __future__ import annotations

from tests.fakes.llm import start_fake_llm
from tests.fleet import test_two_nodes
from tests.knowledge.conftest import add_text, create_bot, wait_done
from tests.support import eventually

fleet, pair = test_two_nodes.fleet, test_two_nodes.pair  # the two-node fixtures

TEXTS = ["Otters hold hands while they sleep.", "Penguins propose with a pebble.",
         "Axolotls regrow their limbs."]


def test_a_change_on_one_node_reembeds_each_chunk_once(pair):
    fleet, on_a, on_b = pair
    fake = start_fake_llm()
    try:
        bot = create_bot(on_a)
        for index, text in enumerate(TEXTS):
            wait_done(on_a, bot, add_text(on_a, bot, f"Fact {index}", text)["id"])
        on_b.add_provider(on_b.ws, "openai_compatible", "sk-fleet-0123456789abcdef", fake.url)
        on_b.ok("PUT", f"/api/v1/workspaces/{on_b.ws}/embedding",
                json={"mode": "provider", "provider": "openai_compatible", "model": "text-embedding-3-small"})
        done = eventually(lambda: on_a.ok("GET", f"/api/v1/workspaces/{on_a.ws}/embedding")["reembedding"],
                          lambda r: r["state"] == "done", timeout=60, what="the re-embedding on the fleet")
        assert done == {"state": "done", "done": 3, "total": 3}
        for text in TEXTS:
            sent = [r for r in fake.app.embedding_requests if any(text in t for t in r["input"])]
            assert len(sent) == 1, f"{text!r} was embedded {len(sent)} times"
        for node, question in ((on_a, "penguins pebble"), (on_b, "pebble penguins")):
            before = len(fake.app.embedding_requests)
            hits = node.ok("GET", f"/api/v1/workspaces/{node.ws}/chatbots/{bot}/search",
                           params={"q": question})["results"]
            assert hits[0]["text"] == TEXTS[1] and hits[0]["vector_rank"] == 1
            assert fake.app.embedding_requests[before:][0]["input"] == [question]
    finally:
        fake.stop()
