"""Isolation scenarios for test sets and their runs (a bot's evals)."""

from __future__ import annotations

from tests.support import Api

EVALS = "/api/v1/workspaces/{ws}/chatbots/{bot}/evals"


def create_resources(a: Api, ids: dict) -> None:
    if "bot" not in ids:  # the chat scenarios may have made one already
        ids["bot"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots", json={"name": "Bot A"})["id"]
    base = f"/api/v1/workspaces/{a.ws}/chatbots/{ids['bot']}/evals"
    eval_set = a.ok("POST", base, 201, json={"name": "A's secret set", "cases": [
        {"question": "What is in A's secret recipe?", "expect_text": ["cardamom"]}]})
    ids["eval_id"] = eval_set["id"]
    ids["run_id"] = a.ok("POST", f"{base}/{eval_set['id']}/runs", 202)["id"]


PUBLIC: dict[str, str] = {}

SCENARIOS = {
    f"GET {EVALS}": {},
    f"POST {EVALS}": {"json": {"name": "B's set", "cases": [{"question": "q"}]}},
    f"GET {EVALS}/{{eval_id}}": {},
    f"PUT {EVALS}/{{eval_id}}": {"json": {"name": "Renamed by B"}},
    f"DELETE {EVALS}/{{eval_id}}": {},
    f"POST {EVALS}/{{eval_id}}/cases": {"json": {"cases": [{"question": "from B"}]}},
    f"POST {EVALS}/{{eval_id}}/runs": {},
    f"GET {EVALS}/{{eval_id}}/runs": {},
    f"GET {EVALS}/{{eval_id}}/runs/{{run_id}}": {},
}
