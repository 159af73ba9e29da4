"""Helpers for the widget tests: published bots, and requests as a page on some origin."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support import Api

HOST_PAGE_ORIGIN = "https://shop.example.com"
SESSION = "0123456789abcdef0123456789abcdef"


def make_bot(owner: Api, fake_llm: Any = None, **fields: Any) -> dict:
    """A published bot in the owner's workspace; with fake_llm it answers through that server."""
    model = None
    if fake_llm is not None:
        owner.add_provider(owner.ws, "openai", api_base=fake_llm.url)
        model = "openai/gpt-4o-mini"
    defaults = {"name": "Helper", "system_prompt": "secret system prompt", "accent_color": "#0f766e",
                "starter_questions": ["What are your opening hours?"], "published": True}
    if model:
        defaults["model"] = model
    return owner.create_bot(owner.ws, **{**defaults, **fields})


def from_page(origin: str = HOST_PAGE_ORIGIN, **headers: str) -> dict:
    return {"origin": origin, **headers}


def widget_chat(client: httpx.Client, bot_id: str, message: str, session_id: str = SESSION,
                origin: str = HOST_PAGE_ORIGIN) -> httpx.Response:
    return client.post(f"/api/v1/widget/{bot_id}/chat", json={"session_id": session_id, "message": message},
                       headers=from_page(origin))


def sse_events(response: httpx.Response) -> list[dict]:
    events = []
    for block in response.text.split("\n\n"):
        data = [line[5:].lstrip() for line in block.splitlines() if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events
