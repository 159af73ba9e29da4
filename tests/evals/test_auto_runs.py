"""A set marked auto_run runs after knowledge changes: once per batch, not once per document."""

from __future__ import annotations

import time

from tests.support import eventually

DEBOUNCE = 3.0
GAP = 0.8  # between one document indexed and the next upload: well inside the debounce
BREADS = [
    ("Sourdough", "Our sourdough loaf rises for 36 hours and costs 6 euros."),
    ("Rye", "The dark rye bread is baked with caraway and sunflower seeds."),
    ("Baguette", "A classic baguette, crusty outside, sold from 7 am for 1.20 euros."),
    ("Brioche", "Brioche is made with butter and eggs from a farm in the Dombes."),
    ("Focaccia", "Focaccia comes with rosemary, olive oil and sea salt on Fridays."),
    ("Ciabatta", "Ciabatta has large holes and a thin crust; ask for it sliced."),
]


def _knowledge_runs(bench, set_id: str) -> list[dict]:
    return [r for r in bench.runs(set_id) if r["reason"] == "knowledge"]


def test_a_batch_of_documents_triggers_one_run_and_a_deletion_another(bench):
    bench.live.app.state["evals"].debounce_seconds = DEBOUNCE
    watched = bench.create_set([{"question": "[[echo]] Which seeds are in your rye bread?",
                                 "expect_source": "Rye", "expect_text": ["caraway"]}], auto_run=True)
    ignored = bench.create_set([{"question": "Anything?"}], name="Manual only")
    # One after another, as an editor adding files does: each change lands while the run the
    # previous one asked for is still waiting (without the debounce, each would start its own).
    docs = []
    for title, text in BREADS:
        docs.append(bench.add_text(title, text))
        assert bench.wait_indexed(docs[-1])["status"] == "indexed"
        time.sleep(GAP)

    first = eventually(lambda: _knowledge_runs(bench, watched["id"]), lambda runs: runs and
                       runs[0]["status"] == "done", timeout=60, interval=0.2, what="the auto-run done")
    assert first[0]["pass_rate"] == 1.0 and first[0]["recall_at_k"] == 1.0
    # Whatever was still due would have come by now (debounce, twice, and the worker's poll).
    time.sleep(2 * DEBOUNCE + 2.5)
    assert len(_knowledge_runs(bench, watched["id"])) == 1, "one batch of documents, one run"
    assert bench.runs(ignored["id"]) == []

    bench.api.ok("DELETE", f"{bench.base}/documents/{docs[1]}", 204)  # Rye
    after = eventually(lambda: _knowledge_runs(bench, watched["id"]), lambda runs: len(runs) == 2 and
                       runs[0]["status"] == "done", timeout=60, interval=0.2, what="the run after the deletion")
    assert after[0]["recall_at_k"] == 0.0 and after[0]["pass_rate"] == 0.0
    assert bench.runs(ignored["id"]) == []
