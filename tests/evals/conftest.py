"""Test-set fixtures: a bot answering through the fake LLM, with real knowledge (real embeddings)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support import Api, LiveServer, eventually

HOURS = ("Opening hours", "Our bakery on Rue Victor Hugo opens at 7 am on weekdays. On Sundays the bakery "
                          "opens at 9 am and closes at noon. We are closed on public holidays.")
DELIVERY = ("Delivery", "We deliver bread and pastries by bicycle within 5 km of the shop. A delivery costs "
                        "3 euros; orders over 30 euros travel free.")


@dataclass
class Bench:
    live: LiveServer
    api: Api
    bot: str

    @property
    def base(self) -> str:
        return f"/api/v1/workspaces/{self.api.ws}/chatbots/{self.bot}"

    def add_text(self, title: str, text: str) -> str:
        return self.api.ok("POST", self.base + "/documents/text", 202, json={"title": title, "text": text})["id"]

    def wait_indexed(self, doc_id: str) -> dict:
        return eventually(lambda: self.api.ok("GET", f"{self.base}/documents/{doc_id}"),
                          lambda doc: doc["status"] in ("indexed", "error"), timeout=90, interval=0.1,
                          what="the document indexed")

    def create_set(self, cases: list[dict], name: str = "Basics", **fields) -> dict:
        return self.api.ok("POST", self.base + "/evals", 201, json={"name": name, "cases": cases, **fields})

    def runs(self, set_id: str) -> list[dict]:
        return self.api.ok("GET", f"{self.base}/evals/{set_id}/runs")["items"]

    def run_and_wait(self, set_id: str) -> dict:
        run = self.api.ok("POST", f"{self.base}/evals/{set_id}/runs", 202)
        return self.wait_run(set_id, run["id"])

    def wait_run(self, set_id: str, run_id: str) -> dict:
        return eventually(lambda: self.api.ok("GET", f"{self.base}/evals/{set_id}/runs/{run_id}"),
                          lambda run: run["status"] in ("done", "error"), timeout=60, interval=0.1,
                          what="the run finished")


@pytest.fixture
def bench(server: LiveServer, owner: Api, fake_llm) -> Bench:
    owner.add_provider(owner.ws, "openai", "sk-test-0123456789abcdef", fake_llm.url)
    bot = owner.create_bot(owner.ws, model="gpt-4o-mini", score_threshold=0.0, top_k=3)
    return Bench(server, owner, bot["id"])


@pytest.fixture
def stocked(bench: Bench) -> tuple[Bench, dict]:
    """The bench with two indexed documents: {title: document id}."""
    ids = {title: bench.add_text(title, text) for title, text in (HOURS, DELIVERY)}
    for doc_id in ids.values():
        assert bench.wait_indexed(doc_id)["status"] == "indexed"
    return bench, ids
