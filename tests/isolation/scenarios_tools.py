"""Isolation scenarios for a bot's HTTP actions and the per-tool analytics.

Runs after scenarios_chat (names sort), so A's bot exists; the action points at a port nothing
listens on. B must neither see the action nor change, delete or test it.
"""

from __future__ import annotations

from tests.support import Api

ACTION = "/api/v1/workspaces/{ws}/chatbots/{bot}/actions"


def create_resources(a: Api, ids: dict) -> None:
    action = a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots/{ids['bot']}/actions", 201, json={
        "name": "a_secret_lookup", "description": "A's lookup.", "url": "http://localhost:9/a-secret/{q}",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
        "headers": {"Authorization": "Bearer a-header-secret-value"}})
    ids["action_id"] = action["id"]


PUBLIC: dict[str, str] = {}

SCENARIOS = {
    f"GET {ACTION}": {},
    f"POST {ACTION}": {"json": {"name": "b_action", "description": "B's.", "url": "https://b.example.com/x"}},
    f"GET {ACTION}/{{action_id}}": {},
    f"PATCH {ACTION}/{{action_id}}": {"json": {"description": "changed by B"}},
    f"DELETE {ACTION}/{{action_id}}": {},
    f"POST {ACTION}/{{action_id}}/test": {"json": {"arguments": {"q": "x"}}},
    "GET /api/v1/workspaces/{ws}/analytics/tools": {},
}
