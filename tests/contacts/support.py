"""Helpers of the contacts tests: bots with a lead form, widget calls, identity tokens."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from tests.support import Api
from tests.widget_support import from_page, sse_events

LEAD_FIELDS = [
    {"name": "name", "label": "Your name", "type": "text", "required": True},
    {"name": "email", "label": "Email", "type": "email", "required": True},
    {"name": "phone", "label": "Phone", "type": "phone", "required": False},
    {"name": "plan", "label": "Plan", "type": "select", "required": False, "options": ["Basic", "Pro"]},
]


def lead_bot(owner: Api, when: str = "before_chat", **fields: Any) -> dict:
    form = {"enabled": True, "when": when, "after_messages": 2, "fields": LEAD_FIELDS,
            "consent_text": "I agree to be contacted.", "privacy_url": "https://shop.example.com/privacy"}
    return owner.create_bot(owner.ws, name="Lead bot", published=True, lead_form=form, **fields)


def send_lead(client: httpx.Client, bot_id: str, session_id: str, fields: dict, consent: bool = True,
              token: str | None = None) -> httpx.Response:
    headers = from_page(**({"x-modelpilot-identity": token} if token else {}))
    return client.post(f"/api/v1/widget/{bot_id}/lead", headers=headers,
                       json={"session_id": session_id, "fields": fields, "consent": consent})


def chat(client: httpx.Client, bot_id: str, session_id: str, message: str, token: str | None = None) -> list[dict]:
    headers = from_page(**({"x-modelpilot-identity": token} if token else {}))
    response = client.post(f"/api/v1/widget/{bot_id}/chat", headers=headers,
                           json={"session_id": session_id, "message": message})
    assert response.status_code == 200, response.text
    return sse_events(response)


def history(client: httpx.Client, bot_id: str, session_id: str, token: str | None = None) -> httpx.Response:
    headers = from_page(**({"x-modelpilot-identity": token} if token else {}))
    return client.get(f"/api/v1/widget/{bot_id}/history", params={"session_id": session_id}, headers=headers)


def token_for(secret: str, sub: str | None = "user-42", expires_in: int = 600, **claims: Any) -> str:
    payload = {**claims}
    if sub is not None:
        payload["sub"] = sub
    if expires_in is not None:
        payload["exp"] = int(time.time()) + expires_in
    return jwt.encode(payload, secret, algorithm="HS256")


def identity_secret(owner: Api, bot_id: str) -> str:
    created = owner.ok("POST", f"/api/v1/workspaces/{owner.ws}/chatbots/{bot_id}/identity-secret", 201)
    assert created["secret"].startswith("mpid_") and created["created_at"]
    return created["secret"]


def roomy_settings(data_dir, **overrides: Any):
    """A server whose widget limits leave room for a module of tests from one address."""
    from tests.support import make_settings
    return make_settings(data_dir, **{"widget_ip_messages_per_minute": 1000, "widget_session_messages_per_minute": 1000,
                                      "widget_ip_requests_per_minute": 5000, **overrides})
