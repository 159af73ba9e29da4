"""Two nodes on one Postgres database: knowledge changes made through either node end in one
auto-run, and each case of it is answered once across the fleet.

Always on Postgres (the fleet fixture of tests/fleet), whatever MP_TEST_BACKEND says.
"""

from __future__ import annotations

import time

import pytest

from tests.evals.test_auto_runs import BREADS
from tests.fleet.test_two_nodes import fleet  # noqa: F401 (the fixture)
from tests.support import eventually

pytestmark = pytest.mark.slow
DEBOUNCE, GAP = 3.0, 0.8
QUESTION = "[[echo]] Which seeds are in your rye bread? (fleet)"


def test_changes_through_two_nodes_make_one_run_answered_once(fleet, fake_llm):  # noqa: F811
    a, b = fleet.start("node-a"), fleet.start("node-b")
    for node in (a, b):
        node.app.state["evals"].debounce_seconds = DEBOUNCE
    on_a, on_b = fleet.client(a), fleet.client(b)
    on_a.setup_owner()
    on_b.login("owner@example.com")
    ws = on_a.ws
    on_a.add_provider(ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    bot = on_a.create_bot(ws, model="gpt-4o-mini", score_threshold=0.0, top_k=3)["id"]
    base = f"/api/v1/workspaces/{ws}/chatbots/{bot}"
    watched = on_a.ok("POST", base + "/evals", 201, json={"name": "Fleet", "auto_run": True, "cases": [
        {"question": QUESTION, "expect_source": "Rye", "expect_text": ["caraway"]}]})
    runs = lambda: on_b.ok("GET", f"{base}/evals/{watched['id']}/runs")["items"]  # noqa: E731
    for i, (title, text) in enumerate(BREADS):
        client = on_a if i % 2 == 0 else on_b
        doc = client.ok("POST", base + "/documents/text", 202, json={"title": title, "text": text})["id"]
        eventually(lambda: client.ok("GET", f"{base}/documents/{doc}"), lambda d: d["status"] == "indexed",
                   timeout=90, interval=0.1, what="the document indexed")
        time.sleep(GAP)
    done = eventually(runs, lambda items: items and items[0]["status"] == "done", timeout=60, interval=0.2,
                      what="the auto-run done")
    assert done[0]["reason"] == "knowledge" and done[0]["pass_rate"] == 1.0
    time.sleep(2 * DEBOUNCE + 2.5)  # whatever else was due would have run by now
    assert len(runs()) == 1
    asked = [r for r in fake_llm.requests if QUESTION in str(r["messages"][-1].get("content"))]
    assert len(asked) == 1, "the case was answered on one node only"
