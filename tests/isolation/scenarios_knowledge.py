"""Isolation scenarios for the knowledge routes (documents and search of a bot)."""

from __future__ import annotations

import gc

from tests.support import Api, LiveServer

BOT = "/api/v1/workspaces/{ws}/chatbots/{bot}"


def _create_bot(a: Api) -> str:
    response = a.post(f"/api/v1/workspaces/{a.ws}/chatbots", json={"name": "Bot A"})
    if response.status_code in (200, 201):
        return response.json()["id"]
    # Chatbot CRUD routes are not in this branch yet: insert the row into the live server's database.
    from tests.knowledge.conftest import insert_bot_row

    live = next(o for o in gc.get_objects() if isinstance(o, LiveServer) and o.url == str(a.base_url).rstrip("/"))
    return insert_bot_row(live.settings.db_path, a.ws)


def create_resources(a: Api, ids: dict) -> None:
    ids["bot"] = _create_bot(a)
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
    f"DELETE {BOT}/documents/{{doc}}": {},
    f"POST {BOT}/documents/{{doc}}/reindex": {},
    f"GET {BOT}/search": {"params": {"q": "secret recipe cardamom"}},
}
