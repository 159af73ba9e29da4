"""Isolation scenarios for account self-service and the API reference page.

The account routes act on the caller's own user (from the session), never on a workspace;
B calling them must only ever touch B. The password body carries a wrong current password so
the scenario leaves B's account as it was.
"""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    """A's name changes and a reset link exist; nothing of them may reach B."""
    a.ok("PATCH", "/api/v1/auth/me", json={"name": "A's own name"})
    a.ok("POST", "/api/v1/auth/password-reset", json={"email": "a@example.com"}, status=202)


PUBLIC = {
    "POST /api/v1/auth/password-reset": "anyone may ask; the same 202 whether or not the account exists",
    "GET /api/v1/auth/password-reset/{token}": "the one-time reset token is the authority",
    "POST /api/v1/auth/password-reset/{token}": "the one-time reset token is the authority",
    "GET /api/docs": "static API reference page; it reads the public schema",
}

SCENARIOS = {
    "PATCH /api/v1/auth/me": {"json": {"name": "B"}},
    "POST /api/v1/auth/password": {"json": {"current_password": "not b's password", "new_password": "x" * 20}},
    "GET /api/v1/auth/sessions": {},
    "DELETE /api/v1/auth/sessions": {},
}
