"""Isolation scenarios for the inbox (issue 17): the queue, taking and answering conversations,
the workspace's live event stream, saved replies and a member's own notification setting."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    bot = a.create_bot(a.ws, name="A's handoff bot", model="builtin/extractive", published=True,
                       handoff={"enabled": True})
    a.ok("POST", f"/api/v1/widget/{bot['id']}/handoff", json={"session_id": "a-visitor-session-0001"})
    waiting = a.ok("GET", f"/api/v1/workspaces/{a.ws}/inbox", params={"status": "waiting"})["items"][0]
    ids["handoff_conversation"] = waiting["id"]
    a.ok("POST", f"/api/v1/workspaces/{a.ws}/conversations/{waiting['id']}/messages", json={"text": "A's reply"})
    ids["reply_id"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/saved-replies",
                           json={"title": "A's greeting", "text": "Hello from A"})["id"]


PUBLIC: dict[str, str] = {}

WS = "/api/v1/workspaces/{ws}"
CONV = WS + "/conversations/{conversation_id}"
SCENARIOS = {
    f"GET {WS}/inbox": {"params": {"status": "all"}},
    # A live stream: the harness reads its first bytes (status, headers, retry line) and leaves.
    f"GET {WS}/events": {"stream": True},
    f"POST {CONV}/assign": {"json": {"takeover": True}},
    f"POST {CONV}/messages": {"json": {"text": "B's reply"}},
    f"POST {CONV}/release": {},
    f"POST {CONV}/close": {},
    f"GET {WS}/saved-replies": {},
    f"POST {WS}/saved-replies": {"json": {"title": "B's", "text": "Hello from B"}},
    f"PATCH {WS}/saved-replies/{{reply_id}}": {"json": {"title": "Renamed"}},
    f"DELETE {WS}/saved-replies/{{reply_id}}": {},
    f"PATCH {WS}/members/me": {"json": {"notify_waiting": True}},
}
