"""GET .../search?explain=1: each result says how it got its rank (vector similarity and rank,
keyword rank, fused score, threshold), in final rank order, and chunks under the bot's threshold
are shown, marked, without changing what the bot is given."""

from __future__ import annotations

from modelpilot.rag.retrieve import RRF_K
from tests.knowledge.conftest import add_text, wait_done

# One chunk each. Three mention the question's words (kettle, warranty); three share none of them.
DOCS = {
    "Kettle warranty": "The blue kettle has a two year warranty covering the heating element and the lid.",
    "Warranty claims": "To make a warranty claim, send the receipt and a photo of the fault to support.",
    "Kettle care": "Descale the kettle every month with vinegar so limescale does not build up.",
    "Opening hours": "The shop opens at nine on Saturdays and closes at five.",
    "Parking": "Visitors park behind the warehouse in bay C, next to the loading dock.",
    "Gift cards": "Gift cards can be bought in any amount between ten and two hundred euros.",
}
QUESTION = "is my kettle still under warranty"
MATCHING = {"Kettle warranty", "Warranty claims", "Kettle care"}


def _search(api, bot: str, **params) -> dict:
    return api.ok("GET", f"/api/v1/workspaces/{api.ws}/chatbots/{bot}/search", params={"q": QUESTION, **params})


def _index(api, bot: str) -> dict[str, str]:
    ids = {title: add_text(api, bot, title, text)["id"] for title, text in DOCS.items()}
    for doc_id in ids.values():
        assert wait_done(api, bot, doc_id)["status"] == "indexed"
    return {doc_id: title for title, doc_id in ids.items()}


def test_explain_ranks_scores_and_fusion_agree(owner, bot) -> None:
    titles = _index(owner, bot)
    found = _search(owner, bot, k=20, explain=1)
    results = found["results"]
    assert found["explain"] is True
    assert len(results) == len(DOCS)  # every chunk is a vector candidate in so small a bot
    for hit in results:
        assert {"vector_score", "vector_rank", "keyword_rank", "fused_score", "passed_threshold"} <= hit.keys()
        # Threshold 0: only a chunk pointing away from the question (cosine < 0) fails it.
        assert hit["passed_threshold"] is (hit["vector_score"] >= 0), hit
    # Vector ranks are the order of vector similarity, 1..n.
    by_vector = sorted(results, key=lambda hit: hit["vector_rank"])
    assert [hit["vector_rank"] for hit in by_vector] == list(range(1, len(DOCS) + 1))
    scores = [hit["vector_score"] for hit in by_vector]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    # Keyword ranks: exactly the chunks that have the question's words, ranked 1..m.
    keyworded = {titles[hit["document_id"]]: hit["keyword_rank"] for hit in results if hit["keyword_rank"]}
    assert set(keyworded) == MATCHING
    assert sorted(keyworded.values()) == list(range(1, len(MATCHING) + 1))
    # The fused score is reciprocal rank fusion of the two ranks, and the final order follows it.
    for hit in results:
        expected = sum(1.0 / (RRF_K + rank) for rank in (hit["vector_rank"], hit["keyword_rank"]) if rank)
        assert abs(hit["fused_score"] - expected) < 1e-5, hit
    fused = [hit["fused_score"] for hit in results]
    assert fused == sorted(fused, reverse=True)
    assert titles[results[0]["document_id"]] in MATCHING
    # Without explain: the same order (of those that pass), and none of the explain-only fields.
    plain = _search(owner, bot, k=20)["results"]
    assert [hit["chunk_id"] for hit in plain] == [hit["chunk_id"] for hit in results if hit["passed_threshold"]]
    assert "passed_threshold" not in plain[0] and "vector_score" not in plain[0]


def test_below_threshold_chunks_are_shown_not_passed_and_not_given_to_the_bot(owner, bot) -> None:
    _index(owner, bot)
    scores = sorted((hit["vector_score"] for hit in _search(owner, bot, k=20, explain=1)["results"]), reverse=True)
    threshold = round((scores[1] + scores[2]) / 2, 4)  # two chunks pass
    assert scores[1] > threshold > scores[2]
    owner.ok("PATCH", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}", json={"score_threshold": threshold})

    explained = _search(owner, bot, k=5, explain=1)
    results = explained["results"]
    assert explained["score_threshold"] == threshold
    for hit in results:
        assert hit["passed_threshold"] is (hit["vector_score"] >= threshold), hit
    passed = [hit["chunk_id"] for hit in results if hit["passed_threshold"]]
    below = [hit for hit in results if not hit["passed_threshold"]]
    assert len(passed) == 2 and below
    fused = [hit["fused_score"] for hit in results]
    assert fused == sorted(fused, reverse=True)  # below-threshold chunks stand in their place
    # What the bot gets (search without explain, as chat retrieves) is exactly the passing ones.
    plain = _search(owner, bot, k=5)["results"]
    assert [hit["chunk_id"] for hit in plain] == passed


def test_explain_flag_must_be_a_flag(owner, bot) -> None:
    response = owner.request("GET", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot}/search",
                             params={"q": QUESTION, "explain": "maybe"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "explain"
    assert _search(owner, bot, explain=0)["explain"] is False
