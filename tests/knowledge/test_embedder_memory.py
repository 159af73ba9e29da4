"""The embedding model gives back its batches' working memory once ingestion pauses."""

from __future__ import annotations

import threading
import time

import numpy as np

from modelpilot.rag import embedder as embedder_module
from modelpilot.rag.embedder import get_embedder_sync


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def test_after_a_batch_the_arena_is_released_and_the_model_still_embeds_the_same():
    model = get_embedder_sync()
    long_texts = [" ".join(f"word{i} section{j}" for j in range(200)) for i in range(4)]  # 4 x 256 tokens
    before = model.embed_sync(long_texts)
    held = _rss_mb()
    model.release_memory_sync()
    # onnxruntime kept the batch's peak (~170 MB here) in its arena; the release hands it back.
    assert held - _rss_mb() > 50
    assert np.allclose(model.embed_sync(long_texts), before, atol=1e-6)
    assert np.allclose(model.embed_one_sync("opening hours"), model.embed_sync(["opening hours"])[0], atol=1e-6)


class _Counting:
    def __init__(self) -> None:
        self.released = 0
        self.done = threading.Event()

    def release_memory_sync(self) -> None:
        self.released += 1
        self.done.set()


def test_the_release_waits_for_a_quiet_spell_and_runs_once(monkeypatch):
    monkeypatch.setattr(embedder_module, "IDLE_RELEASE_SECONDS", 1.0)
    target = _Counting()
    batches = embedder_module._IdleRelease(target)
    for _ in range(8):  # an ingestion job: batches 0.05 s apart
        with batches:
            time.sleep(0.02)
        time.sleep(0.05)
    assert target.released == 0  # never while batches keep coming
    assert target.done.wait(10)
    target.done.clear()
    time.sleep(1.5)
    assert target.released == 1  # one release per quiet spell, not one per batch
    with batches:  # the next job: another release after it
        pass
    assert target.done.wait(10)
    assert target.released == 2
