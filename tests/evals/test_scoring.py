"""How one case is judged: which retrieved chunk counts as the expected source, and which words
count as present in the answer."""

from __future__ import annotations

import pytest

from modelpilot.evals.runner import contains_words, score_case
from modelpilot.rag.retrieve import RetrievedChunk

CHUNKS = [
    RetrievedChunk("c1", "doc-faq", "FAQ", "Q: Parking? A: Free.", 0.8),
    RetrievedChunk("c2", "doc-site", "Pricing | Acme", "Plans start at 9 euros.", 0.7, url="https://acme.test/pricing/"),
    RetrievedChunk("c3", "doc-manual", "Manual", "Press reset for 5 s.", 0.6, page=12),
]


def case(**expect) -> dict:
    return {"question": "q", "expect_source": None, "expect_page": None, "expect_text": [], **expect}


@pytest.mark.parametrize("expect, rank", [
    ({"expect_source": "doc-faq"}, 1),                            # a document id
    ({"expect_source": "pricing | ACME"}, 2),                     # a title, any case
    ({"expect_source": "https://acme.test/pricing"}, 2),          # a URL, trailing slash aside
    ({"expect_source": "HTTPS://acme.test/pricing/"}, 2),
    ({"expect_source": "Manual", "expect_page": 12}, 3),          # the right page of it
    ({"expect_source": "Manual", "expect_page": 13}, None),       # the document, but another page
    ({"expect_source": "doc-gone"}, None),
    ({"expect_source": "acme.test/pricing"}, None),               # not the same URL
])
def test_the_expected_source_is_found_at_its_rank(expect, rank):
    result = score_case(case(**expect), CHUNKS, "answer", None)
    assert result["found_rank"] == rank and result["source_found"] is (rank is not None)
    assert result["passed"] is (rank is not None)
    assert [r["rank"] for r in result["retrieved"]] == [1, 2, 3]


def test_words_are_whole_words_in_any_case_and_phrases_may_span_words():
    answer = "Our plans START at 9 euros; the category page lists them."
    assert contains_words(answer, ["start", "9 euros", "cat", "page lists", "plan"]) == ["cat", "plan"]
    assert contains_words("C++ and .NET", ["C++", ".net"]) == []


def test_a_failed_answer_fails_and_a_case_without_a_source_ignores_retrieval():
    assert not score_case(case(), CHUNKS, "", "The provider is down.")["passed"]
    result = score_case(case(expect_text=["free"]), [], "Parking is free.", None)
    assert result["passed"] and result["source_found"] is None and result["found_rank"] is None
