"""Isolation scenarios for outbound webhooks: endpoints, test sends, the delivery log, redeliver.

A's endpoint points at localhost, which the address guard refuses (no network is touched; its
deliveries fail quietly in the background). B must see neither the endpoint, its URL, nor its
deliveries, and cannot test, change or redeliver them.
"""

from __future__ import annotations

from tests.support import Api

HOOK = "/api/v1/workspaces/{ws}/webhooks/{webhook}"


def create_resources(a: Api, ids: dict) -> None:
    hook = a.ok("POST", f"/api/v1/workspaces/{a.ws}/webhooks", 201,
                json={"url": "http://localhost:9/a-secret-path", "events": ["document.indexed"]})
    ids["webhook"] = hook["id"]
    sent = a.ok("POST", f"/api/v1/workspaces/{a.ws}/webhooks/{hook['id']}/test", 202)
    ids["delivery"] = sent["delivery_id"]


PUBLIC: dict[str, str] = {}

SCENARIOS = {
    "GET /api/v1/workspaces/{ws}/webhooks": {},
    "POST /api/v1/workspaces/{ws}/webhooks": {"json": {"url": "http://localhost:9/b", "events": ["lead.created"]}},
    f"GET {HOOK}": {},
    f"PATCH {HOOK}": {"json": {"description": "changed by B"}},
    f"DELETE {HOOK}": {},
    f"POST {HOOK}/rotate-secret": {},
    f"POST {HOOK}/test": {},
    f"GET {HOOK}/deliveries": {},
    f"POST {HOOK}/deliveries/{{delivery}}/redeliver": {},
}
