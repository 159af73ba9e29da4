"""Helpers for the widget tests: bots in a workspace, and requests as a page on some origin."""

from __future__ import annotations

from typing import Any

from modelpilot.core.db import connect_sync
from modelpilot.core.ids import new_id, utc_now_iso
from tests.support import LiveServer

HOST_PAGE_ORIGIN = "https://shop.example.com"
SESSION = "0123456789abcdef0123456789abcdef"


def make_bot(live: LiveServer, workspace_id: str, **fields: Any) -> dict:
    """A chatbot row written straight into the server's database file."""
    now = utc_now_iso()
    bot = {
        "id": new_id(), "name": "Helper", "system_prompt": "secret system prompt", "model": "openai/gpt-4o-mini",
        "temperature": 0.3, "max_tokens": 400, "greeting": "Hi! How can I help?", "accent_color": "#0f766e",
        "position": "bottom-right", "starter_questions": ["What are your opening hours?"], "allowed_origins": [],
        "published": True, "top_k": 5, "score_threshold": 0.0, "created_at": now, "updated_at": now, **fields,
    }
    import json

    row = {**bot, "workspace_id": workspace_id, "starter_questions": json.dumps(bot["starter_questions"]),
           "allowed_origins": json.dumps(bot["allowed_origins"]), "published": int(bot["published"])}
    conn = connect_sync(live.settings.db_path)
    try:
        names = list(row)
        conn.execute(f"INSERT INTO chatbots ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                     [row[n] for n in names])
        conn.commit()
    finally:
        conn.close()
    return bot


def from_page(origin: str = HOST_PAGE_ORIGIN, **headers: str) -> dict:
    return {"origin": origin, **headers}
