"""Runs of a test set against real knowledge: the bot's own answer path (real retrieval with the
real embedding model, the fake LLM over HTTP), pass/fail per case, pass rate and Recall@k."""

from __future__ import annotations

import json

from tests.fakes.llm import ANSWER

# [[echo]]: the fake model answers with the JSON of the prompt it got, so the answer holds the
# knowledge retrieval gave it; without it, the fake's fixed sentence (no expected word in it).
SUNDAY = "When does the bakery open on Sundays?"


def test_a_run_scores_each_case_from_the_real_answer_path(stocked, fake_llm):
    bench, ids = stocked
    cases = [
        {"question": f"[[echo]] {SUNDAY}", "expect_source": "Opening hours", "expect_text": ["9 am", "noon"]},
        {"question": SUNDAY, "expect_source": ids["Opening hours"], "expect_text": ["9 am"]},
        {"question": "[[echo]] How much does a delivery cost?", "expect_source": "Price list"},
        {"question": "[[echo]] How much does a delivery cost?", "expect_text": ["3 euros"]},
    ]
    eval_set = bench.create_set(cases)
    asked_before = len(fake_llm.requests)
    run = bench.run_and_wait(eval_set["id"])

    assert run["status"] == "done" and run["reason"] == "manual" and run["top_k"] == 3
    first, second, third, fourth = run["results"]
    assert first["passed"] and first["source_found"] and first["found_rank"] == 1 and first["missing_text"] == []
    assert first["retrieved"][0]["document_id"] == ids["Opening hours"] and first["retrieved"][0]["rank"] == 1
    assert "9 am" in first["answer"]
    # Right source, but the answer lacks the words: a failure that names them.
    assert second["source_found"] and not second["passed"] and second["missing_text"] == ["9 am"]
    assert second["answer"] == ANSWER
    # A source the bot does not have is not found at k, whatever the answer says.
    assert third["source_found"] is False and third["found_rank"] is None and not third["passed"]
    assert fourth["passed"] and fourth["source_found"] is None
    assert (run["total"], run["passed"], run["with_source"], run["found"]) == (4, 2, 3, 2)
    assert run["pass_rate"] == 0.5 and run["recall_at_k"] == 0.6667

    # Every case went through the provider with the retrieved knowledge in its prompt ...
    asked = fake_llm.requests[asked_before:]
    assert len(asked) == 4 and "Rue Victor Hugo" in json.dumps(asked[0]["messages"])
    # ... and nothing reached the visitor log or the analytics.
    api, ws = bench.api, bench.api.ws
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/conversations")["items"] == []
    usage = api.ok("GET", f"/api/v1/workspaces/{ws}/analytics/usage")
    assert usage["groups"] == [] and usage["totals"]["messages"] == 0


def test_deleting_a_document_shows_as_a_regression_between_two_runs(stocked):
    bench, ids = stocked
    eval_set = bench.create_set([
        {"question": f"[[echo]] {SUNDAY}", "expect_source": ids["Opening hours"], "expect_text": ["9 am"]},
        {"question": "[[echo]] Do you deliver pastries?", "expect_source": "Delivery", "expect_text": ["bicycle"]},
    ])
    before = bench.run_and_wait(eval_set["id"])
    assert (before["pass_rate"], before["recall_at_k"]) == (1.0, 1.0)

    bench.api.ok("DELETE", f"{bench.base}/documents/{ids['Opening hours']}", 204)
    after = bench.run_and_wait(eval_set["id"])
    assert (after["pass_rate"], after["recall_at_k"]) == (0.5, 0.5)
    lost = after["results"][0]
    assert not lost["passed"] and lost["source_found"] is False and lost["missing_text"] == ["9 am"]
    assert ids["Opening hours"] not in {r["document_id"] for r in lost["retrieved"]}

    history = bench.api.ok("GET", f"{bench.base}/evals/{eval_set['id']}/runs", params={"results": "false"})["items"]
    assert [r["id"] for r in history] == [after["id"], before["id"]]  # newest first
    assert [r["recall_at_k"] for r in history] == [0.5, 1.0] and "results" not in history[0]


def test_a_second_run_waits_for_the_first(stocked):
    bench, _ = stocked
    eval_set = bench.create_set([{"question": "[[slow]] Anything?"}])
    path = f"{bench.base}/evals/{eval_set['id']}/runs"
    first = bench.api.ok("POST", path, 202)
    reply = bench.api.post(path)
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "run_in_progress"
    assert bench.wait_run(eval_set["id"], first["id"])["status"] == "done"
