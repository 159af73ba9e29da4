"""Isolation scenarios for providers, chatbots, chat, conversations and analytics."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    # Nothing listens on port 9: the key is stored, never used here.
    a.add_provider(a.ws, "openai", "sk-a-secret-0123456789abcdef", "http://127.0.0.1:9/v1")
    ids["provider"] = "openai"
    bot = a.create_bot(a.ws, name="A's bot", model="builtin/extractive")
    ids["bot"] = bot["id"]
    events = a.chat(a.ws, bot["id"], "What are your opening hours?", session_id="a-session")
    ids["conversation_id"] = events[-1]["conversation_id"]


PUBLIC: dict[str, str] = {}

WS = "/api/v1/workspaces/{ws}"
SCENARIOS = {
    f"GET {WS}/providers": {},
    f"PUT {WS}/providers/{{provider}}": {"json": {"api_key": "sk-b-0123456789abcdef"}, "own_names": True},
    f"DELETE {WS}/providers/{{provider}}": {},
    f"POST {WS}/providers/{{provider}}/test": {"json": {}},
    f"GET {WS}/providers/{{provider}}/models": {},
    f"GET {WS}/models": {},
    f"GET {WS}/chatbots": {},
    f"POST {WS}/chatbots": {"json": {"name": "B's bot", "model": "builtin/extractive"}},
    f"GET {WS}/chatbots/{{bot}}": {},
    f"PATCH {WS}/chatbots/{{bot}}": {"json": {"name": "Renamed"}},
    f"DELETE {WS}/chatbots/{{bot}}": {},
    f"POST {WS}/chatbots/{{bot}}/chat": {"json": {"message": "hello", "session_id": "a-session"}},
    f"GET {WS}/conversations": {"params": {"q": "opening", "unanswered": "true"}},
    f"GET {WS}/conversations/export": {"params": {"format": "jsonl"}},
    f"GET {WS}/conversations/{{conversation_id}}": {},
    f"GET {WS}/analytics/usage": {"params": {"group_by": "chatbot"}},
}
