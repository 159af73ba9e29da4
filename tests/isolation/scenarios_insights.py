"""Isolation scenarios for the answer-quality routes (unanswered questions, improving an answer)."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    if "conversation_id" not in ids:  # the chat scenarios made one already when they ran first
        bot = a.create_bot(a.ws, name="A's quality bot", model="builtin/extractive")
        ids["conversation_id"] = a.chat(a.ws, bot["id"], "Do you sell zebras?", session_id="a-quality")[-1][
            "conversation_id"]
    detail = a.ok("GET", f"/api/v1/workspaces/{a.ws}/conversations/{ids['conversation_id']}")
    ids["message_id"] = next(m["id"] for m in detail["messages"] if m["role"] == "assistant")


PUBLIC: dict[str, str] = {}

WS = "/api/v1/workspaces/{ws}"
SCENARIOS = {
    f"GET {WS}/insights/unanswered": {},
    f"POST {WS}/conversations/{{conversation_id}}/messages/{{message_id}}/improve":
        {"json": {"answer": "We open at nine."}},
}
