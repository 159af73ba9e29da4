"""Knowledge is embedded on every core while nobody chats, on fewer while people do, at low
priority, and never in the way of a question."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid

import numpy as np
import pytest

from modelpilot.core.foreground import Foreground
from modelpilot.rag import embedder as embedder_module
from modelpilot.rag.embedder import embed_knowledge, embed_query, get_embedder_sync

TEXTS = [f"Chunk {i}: returns are accepted within {i} days when the receipt is kept." for i in range(24)]


class Watched:
    """The real model's embed_sync, recording how many runs overlap and the priority of the
    thread each ran on; `gate` (when set) holds every run until it is opened."""

    def __init__(self, real, gate: threading.Event | None = None) -> None:
        self._real, self._gate, self._lock = real, gate, threading.Lock()
        self.running = self.most = self.runs = 0
        self.started = threading.Semaphore(0)
        self.nice: set[int] = set()

    def __call__(self, texts):
        with self._lock:
            self.running += 1
            self.runs += 1
            self.most = max(self.most, self.running)
        self.started.release()
        if sys.platform.startswith("linux"):
            self.nice.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        try:
            if self._gate is not None:
                assert self._gate.wait(30)
            else:
                threading.Event().wait(0.05)  # long enough for runs started together to overlap
            return self._real(texts)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def watched(monkeypatch):
    model = get_embedder_sync()
    embedder_module.configure_ingest_threads(2)
    watch = Watched(model.embed_sync)
    monkeypatch.setattr(model, "embed_sync", watch)
    yield watch
    monkeypatch.undo()
    embedder_module.configure_ingest_threads(embedder_module.default_ingest_threads())


def test_knowledge_vectors_are_the_models_in_order():
    model = get_embedder_sync()
    embedder_module.configure_ingest_threads(2)
    vectors = asyncio.run(embed_knowledge(TEXTS))
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose(vectors, model.embed_sync(TEXTS), atol=1e-6)
    assert asyncio.run(embed_knowledge([])).shape == (0, 384)


def test_runs_overlap_while_nobody_chats_and_at_low_priority(watched):
    asyncio.run(embed_knowledge(TEXTS, Foreground()))
    assert watched.runs == len(TEXTS) // embedder_module.BATCH_SIZE
    assert watched.most == 2
    if sys.platform.startswith("linux"):
        assert watched.nice == {os.getpriority(os.PRIO_PROCESS, 0) + embedder_module.INGEST_NICE}


def test_one_run_at_a_time_while_a_turn_is_starting(watched):
    foreground = Foreground()

    async def during_a_turn():
        with foreground.hold():
            return await embed_knowledge(TEXTS, foreground)

    asyncio.run(during_a_turn())
    assert watched.runs == len(TEXTS) // embedder_module.BATCH_SIZE
    assert watched.most == 1


def test_a_question_is_answered_while_every_knowledge_thread_is_busy(monkeypatch):
    model = get_embedder_sync()
    embedder_module.configure_ingest_threads(2)
    gate = threading.Event()
    watch = Watched(model.embed_sync, gate)
    monkeypatch.setattr(model, "embed_sync", watch)

    async def scenario():
        ingestion = asyncio.ensure_future(embed_knowledge(TEXTS))
        for _ in range(2):  # both knowledge threads are inside a run, held there
            assert await asyncio.to_thread(watch.started.acquire, True, 30)
        question = await asyncio.wait_for(embed_query(f"can I return a gift without the receipt? ({uuid.uuid4()})"), 30)
        assert not ingestion.done()
        gate.set()
        return question, await ingestion

    try:
        question, vectors = asyncio.run(scenario())
    finally:
        gate.set()
        monkeypatch.undo()
        embedder_module.configure_ingest_threads(embedder_module.default_ingest_threads())
    assert question.shape == (384,)
    assert vectors.shape == (len(TEXTS), 384)
