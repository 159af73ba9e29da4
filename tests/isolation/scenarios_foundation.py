"""Isolation scenarios for accounts and workspaces (the foundation issue's routes).

Each scenarios_*.py module adds: create_resources(a, ids) to make objects in workspace A, a
SCENARIOS table (one entry per route: request body/query needed to get past validation) and
PUBLIC (routes with no workspace authority, with the reason).
"""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    member = Api(str(a.base_url))
    a.invite_and_join(member, "member-a@example.com", "editor")
    ids["user_id"] = member.user["id"]
    member.close()
    pending = a.ok("POST", f"/api/v1/workspaces/{a.ws}/invitations", json={"email": "x@example.com", "role": "viewer"})
    ids["invitation_id"] = pending["id"]
    ids["token_id"] = a.ok("POST", f"/api/v1/workspaces/{a.ws}/api-tokens", json={"name": "ci", "role": "admin"})["id"]


PUBLIC = {
    "GET /healthz": "health check",
    "GET /api/v1/auth/setup": "first-run state only",
    "POST /api/v1/auth/setup": "first run, before any account",
    "POST /api/v1/auth/signup": "creates an account",
    "POST /api/v1/auth/login": "authenticates",
    "POST /api/v1/auth/logout": "ends the caller's own session",
    "GET /api/v1/invitations/{token}": "the invitation token is the authority",
    "POST /api/v1/invitations/{token}/accept": "the invitation token is the authority",
}

SCENARIOS = {
    "GET /api/v1/auth/me": {},
    "GET /api/v1/workspaces": {},
    "POST /api/v1/workspaces": {"json": {"name": "New"}},
    "GET /api/v1/workspaces/{ws}": {},
    "PATCH /api/v1/workspaces/{ws}": {"json": {"name": "Renamed"}},
    "DELETE /api/v1/workspaces/{ws}": {},
    "GET /api/v1/workspaces/{ws}/members": {},
    "PATCH /api/v1/workspaces/{ws}/members/{user_id}": {"json": {"role": "viewer"}},
    "DELETE /api/v1/workspaces/{ws}/members/{user_id}": {},
    "GET /api/v1/workspaces/{ws}/invitations": {},
    "POST /api/v1/workspaces/{ws}/invitations": {"json": {"email": "y@example.com", "role": "viewer"}},
    "DELETE /api/v1/workspaces/{ws}/invitations/{invitation_id}": {},
    "GET /api/v1/workspaces/{ws}/api-tokens": {},
    "POST /api/v1/workspaces/{ws}/api-tokens": {"json": {"name": "t", "role": "viewer"}},
    "DELETE /api/v1/workspaces/{ws}/api-tokens/{token_id}": {},
    "GET /api/v1/workspaces/{ws}/audit-log": {},
}
