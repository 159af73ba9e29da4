"""Isolation scenarios for the static dashboard: every route is public, none touches tenant data."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    """Nothing to create: static files belong to no workspace."""


PUBLIC = {
    "GET /api/v1/instance": "first-run state and the sign-up switch; no tenant data",
    "GET /": "static dashboard shell; data comes only from the authenticated API",
    "GET /widget-preview.html": "static host page for the widget preview; the bot id is in its fragment",
    "GET /css/{asset}": "static stylesheet shipped with the program",
    "GET /js/{asset}": "static ES module shipped with the program",
    "GET /img/{asset}": "static image shipped with the program",
    "GET /favicon.ico": "static icon shipped with the program",
}

SCENARIOS: dict = {}
