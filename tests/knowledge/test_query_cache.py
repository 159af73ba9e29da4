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
    real = embedder.embed_texts

    async def counting(texts):
        calls.append(list(texts))
        return await real(texts)

    monkeypatch.setattr(embedder, "embed_texts", counting)
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
