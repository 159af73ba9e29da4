"""Isolation scenarios for the knowledge routes (documents and search of a bot)."""

from __future__ import annotations

from tests.support import Api

BOT = "/api/v1/workspaces/{ws}/chatbots/{bot}"


def create_resources(a: Api, ids: dict) -> None:
    if "bot" not in ids:  # the chat scenarios may have made one already
        ids["bot"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots", json={"name": "Bot A"})["id"]
    doc = a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots/{ids['bot']}/documents/text", 202,
               json={"title": "Secret A", "text": "Workspace A's secret recipe uses cardamom."})
    ids["doc"] = doc["id"]


PUBLIC: dict[str, str] = {}

SCENARIOS = {
    f"GET {BOT}/documents": {},
    f"POST {BOT}/documents": {"files": {"file": ("a.txt", b"hello from B")}},
    f"POST {BOT}/documents/url": {"json": {"url": "https://example.com/", "mode": "page"}},
    f"POST {BOT}/documents/text": {"json": {"title": "t", "text": "text from B"}},
    f"POST {BOT}/documents/faq": {"json": {"items": [{"question": "q?", "answer": "a."}]}},
    f"GET {BOT}/documents/{{doc}}": {"params": {"chunks": 1}},
    f"PATCH {BOT}/documents/{{doc}}": {"json": {"title": "Renamed by B", "text": "text from B"}},
    f"DELETE {BOT}/documents/{{doc}}": {},
    f"POST {BOT}/documents/{{doc}}/reindex": {},
    f"GET {BOT}/search": {"params": {"q": "secret recipe cardamom"}},
    "GET /api/v1/workspaces/{ws}/embedding": {},
    "PUT /api/v1/workspaces/{ws}/embedding": {"json": {"mode": "builtin"}},
}
