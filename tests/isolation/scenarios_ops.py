"""Isolation scenarios for operations routes (metrics; conversation deletion comes with chat)."""

from __future__ import annotations

from tests.support import Api


def create_resources(a: Api, ids: dict) -> None:
    pass


PUBLIC = {
    "GET /metrics": "instance-wide figures, no workspace data; guarded by MODELPILOT_METRICS_TOKEN",
}

SCENARIOS: dict = {}
