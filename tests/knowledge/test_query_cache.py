"""A repeated question is embedded once (rag/embedder.py's query cache), with the real model:
starter questions repeat, and the query embedding is most of a small bot's search."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from modelpilot.rag import embedder


@pytest.fixture
def counted(monkeypatch):
    calls: list[list[str]] = []
    real = embedder.Embedder.embed_one_sync

    def counting(self, text):
        calls.append([text])
        return real(self, text)

    monkeypatch.setattr(embedder.Embedder, "embed_one_sync", counting)
    monkeypatch.setattr(embedder, "_query_cache", type(embedder._query_cache)())
    return calls


def test_a_repeated_question_is_embedded_once(counted):
    async def run():
        first = await embedder.embed_query("What are your opening hours?")
        again = await embedder.embed_query("What are your opening hours?")
        other = await embedder.embed_query("Do you deliver on Sundays?")
        return first, again, other

    first, again, other = asyncio.run(run())
    assert counted == [["What are your opening hours?"], ["Do you deliver on Sundays?"]]
    assert np.array_equal(first, again) and not np.allclose(first, other)
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared with the next asker: nobody may change it


def test_the_cache_keeps_only_the_latest_questions(counted, monkeypatch):
    monkeypatch.setattr(embedder, "QUERY_CACHE_SIZE", 2)

    async def run():
        for text in ("one", "two", "one", "three", "one", "two"):
            await embedder.embed_query(text)

    asyncio.run(run())
    # "one" stays (asked again before "three" came), "two" was the oldest when "three" arrived
    assert [texts[0] for texts in counted] == ["one", "two", "three", "two"]


@pytest.mark.parametrize("text", ["What are your opening hours?", "Où est la gare ? 東京駅",
                                  "refund " * 400, "x"])
def test_a_query_gets_the_same_vector_as_a_document_of_the_same_text(text):
    """The query path skips fastembed's batching, not its model: a question and a chunk of the
    same words must meet at similarity 1 (long text truncated the same way)."""
    async def run():
        embedder._query_cache.clear()
        return await embedder.embed_query(text), (await embedder.embed_texts([text]))[0]

    query, document = asyncio.run(run())
    assert query.dtype == np.float32 and query.shape == document.shape
    assert np.allclose(query, document, atol=1e-6)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
