"""Isolation scenarios for the open interfaces (/v1, /mcp). They take API tokens only, so the
walk (as B's session) meets 401s; tests/openif/test_limits_and_isolation.py walks them with B's
token: A's bots are 404 there by slug and by id."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    bot = a.create_bot(a.ws, name="A open bot", model="builtin/extractive")
    ids["model"] = bot["slug"]


PUBLIC: dict[str, str] = {}

MCP_CALL = {"json": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}}
SCENARIOS = {
    "GET /v1/models": {},
    "GET /v1/models/{model}": {},
    "POST /v1/chat/completions": {"json": {"model": "a-open-bot", "messages": [{"role": "user", "content": "hi"}]}},
    **{f"{method} /mcp": (MCP_CALL if method == "POST" else {})
       for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "TRACE")},
}
