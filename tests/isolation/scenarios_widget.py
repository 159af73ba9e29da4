"""Isolation scenarios for the widget (issue 5).

The widget routes carry no session or token: the bot id in the path plus the page's allowed
Origin are the authority, and the bot's workspace scopes everything behind them. What a
visitor of one bot can and cannot reach is tested in tests/widget/test_widget_isolation.py
(unpublished bots are 404; another workspace's sessions and messages are never reachable).
"""

from __future__ import annotations

from tests.support import Api

REASON = "bot id + allowed origin are the authority"


def create_resources(a: Api, ids: dict) -> None:
    """Nothing extra: the widget serves bots that other scenarios create."""


PUBLIC = {
    "GET /widget.js": "static widget script",
    "GET /widget-chat.js": "static widget script (chat window)",
    "GET /api/v1/widget/{bot_id}/config": REASON,
    "POST /api/v1/widget/{bot_id}/chat": REASON,
    "GET /api/v1/widget/{bot_id}/history": REASON + "; plus the visitor's own session id",
    "POST /api/v1/widget/{bot_id}/feedback": REASON + "; plus the visitor's own session id",
    "POST /api/v1/widget/{bot_id}/handoff": REASON + "; plus the visitor's own session id",
    "GET /api/v1/widget/{bot_id}/events": REASON + "; plus the visitor's own session id",
}

SCENARIOS: dict = {}
