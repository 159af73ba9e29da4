"""Isolation scenarios for operations routes: metrics, and erasing a conversation on request."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    bot = a.create_bot(a.ws, name="Ops isolation bot", model="builtin/extractive")
    done = a.chat(a.ws, bot["id"], "hello", session_id="ops-isolation-visitor")[-1]
    ids["conversation_id"] = done["conversation_id"]


PUBLIC = {
    "GET /metrics": "instance-wide figures, no workspace data; guarded by MODELPILOT_METRICS_TOKEN",
}

SCENARIOS = {
    "DELETE /api/v1/workspaces/{ws}/conversations/{conversation_id}": {},
}
