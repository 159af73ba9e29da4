"""Isolation scenarios for contacts and verified visitors (issue 18): A's contacts, their export
and A's bots' identity secrets are out of B's reach; B's own export holds nothing of A's."""

from __future__ import annotations

from tests.support import Api

CONTACT = "/api/v1/workspaces/{ws}/contacts/{contact_id}"
SECRET = "/api/v1/workspaces/{ws}/chatbots/{bot}/identity-secret"


def create_resources(a: Api, ids: dict) -> None:
    if "bot" not in ids:
        ids["bot"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots", json={"name": "Bot A"})["id"]
    ids["contact_id"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/contacts", 201,
                             json={"name": "A's customer", "email": "customer-of-a@example.com"})["id"]
    a.ok("POST", f"/api/v1/workspaces/{a.ws}/chatbots/{ids['bot']}/identity-secret", 201)


PUBLIC = {
    "POST /api/v1/widget/{bot_id}/lead": "bot id + allowed origin are the authority; plus the visitor's own "
                                         "session id (tests/contacts/test_leads.py)",
}

SCENARIOS = {
    "GET /api/v1/workspaces/{ws}/contacts": {},
    "POST /api/v1/workspaces/{ws}/contacts": {"json": {"name": "B's customer"}},
    "GET /api/v1/workspaces/{ws}/contacts/export": {},
    f"GET {CONTACT}": {},
    f"PATCH {CONTACT}": {"json": {"name": "changed by B"}},
    f"DELETE {CONTACT}": {},
    f"POST {SECRET}": {},
    f"DELETE {SECRET}": {},
}
