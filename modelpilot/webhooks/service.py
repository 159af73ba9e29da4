"""Webhook endpoints (admins manage them), the outbox other domains write events into, and the
delivery log.

Other domains emit events with `queue_event_sync` (inside a `run_write` transaction) or
`queue_event` (inside `async with db.write()`), in the same transaction as the change that
caused them, then call `wake(db)` after it commits. Nothing is lost between the change and the
delivery: the delivery row and its job row commit or roll back with the change itself.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Callable

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.crypto import CryptoError
from modelpilot.core.cursors import decode_cursor, encode_cursor
from modelpilot.core.db import Database, run_on
from modelpilot.core.errors import invalid, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.providers.keys import key_ring
from modelpilot.scheduler import jobs
from modelpilot.core.safe_http import clean_outbound_url
from modelpilot.settings import Settings
from modelpilot.webhooks import repo
from modelpilot.webhooks.events import EVENT_TYPES, TEST_EVENT
from modelpilot.webhooks.signing import new_signing_secret

DELIVER_JOB = "webhook.deliver"
MANAGE_ROLE = "admin"  # endpoint URLs are often capability URLs (Zapier, n8n): admins only, reads too
MAX_URL = 2000

# The delivery worker of each open database, so a commit can wake it at once instead of at its
# next poll (another node's worker still finds the job at its own poll).
_wakers: "weakref.WeakKeyDictionary[Database, Callable[[], None]]" = weakref.WeakKeyDictionary()


def register_waker(db: Database, wake_fn: Callable[[], None]) -> None:
    _wakers[db] = wake_fn


def wake(db: Database) -> None:
    """Call after committing a transaction that queued events."""
    waker = _wakers.get(db)
    if waker is not None:
        waker()


def _body(event_type: str, data: dict) -> str:
    return json.dumps({"type": event_type, "timestamp": utc_now_iso(), "data": data}, separators=(",", ":"),
                      ensure_ascii=False)


def _queue_for(conn, workspace_id: str, endpoint_ids: list[str], event_type: str, data: dict,
               manual: bool = False) -> list[str]:
    message_id, body, now = "msg_" + new_id(), _body(event_type, data), utc_now_iso()
    created = []
    for endpoint_id in endpoint_ids:
        delivery_id = new_id()
        repo.insert_delivery_sync(conn, workspace_id, {
            "id": delivery_id, "endpoint_id": endpoint_id, "message_id": message_id, "event_type": event_type,
            "body": body, "created_at": now})
        jobs.enqueue_sync(conn, workspace_id, DELIVER_JOB, delivery_id, {"manual": manual})
        created.append(delivery_id)
    return created


def queue_event_sync(conn, workspace_id: str, event_type: str, data: dict) -> int:
    """The outbox: one delivery (and its job) per enabled endpoint subscribed to `event_type`,
    in the caller's transaction. Returns how many were queued (0: nobody listens)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    wanted = [e["id"] for e in repo.enabled_endpoints_sync(conn, workspace_id) if event_type in e["events"]]
    return len(_queue_for(conn, workspace_id, wanted, event_type, data)) if wanted else 0


async def queue_event(conn: Any, workspace_id: str, event_type: str, data: dict) -> int:
    """queue_event_sync for a caller inside `async with db.write() as conn`."""
    return await run_on(conn, lambda sync: queue_event_sync(sync, workspace_id, event_type, data))


async def publish(db: Database, workspace_id: str, event_type: str, data: dict) -> int:
    """For a caller with no transaction of its own: queue in one, then wake the worker."""
    queued = await db.run_write(lambda conn: queue_event_sync(conn, workspace_id, event_type, data))
    if queued:
        wake(db)
    return queued


# ---- endpoints -------------------------------------------------------------------------------

def clean_url(settings: Settings, url: str) -> str:
    return clean_outbound_url(url, allow_private=settings.outbound_allow_private, max_chars=MAX_URL)


def clean_events(events: list[str]) -> list[str]:
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise invalid("events", f"has unknown event types ({', '.join(unknown)}); known: {', '.join(EVENT_TYPES)}")
    if not events:
        raise invalid("events", "must name at least one event type")
    return list(dict.fromkeys(events))


def _aad(workspace_id: str, endpoint_id: str) -> str:
    return f"webhook/{workspace_id}/{endpoint_id}"


def open_secret(settings: Settings, workspace_id: str, endpoint_id: str, sealed: str) -> str:
    ring, aad = key_ring(settings), _aad(workspace_id, endpoint_id)
    try:
        return ring.open(sealed, aad=aad)
    except CryptoError:
        return key_ring(settings, reload=True).open(sealed, aad=aad)


def reseal_secrets_sync(conn, ring) -> int:
    """`modelpilot rotate-key`: every endpoint's signing secret sealed again with the new ring's
    first key, in the rotation's transaction (instance-wide, like the provider keys it goes with)."""
    rows = repo.all_sealed_secrets_sync(conn)
    for row in rows:
        aad = _aad(row["workspace_id"], row["id"])
        resealed = ring.seal(ring.open(row["secret_sealed"], aad=aad), aad=aad)
        repo.update_endpoint_sync(conn, row["workspace_id"], row["id"], {"secret_sealed": resealed})
    return len(rows)


def public_endpoint(row: dict) -> dict:
    return {key: row[key] for key in ("id", "url", "description", "events", "enabled", "failing_since",
                                      "disabled_reason", "disabled_at", "created_at", "updated_at")}


async def create_endpoint(db: Database, settings: Settings, access: WorkspaceAccess, url: str, events: list[str],
                          description: str, enabled: bool) -> dict:
    access.require(MANAGE_ROLE)
    url, events = clean_url(settings, url), clean_events(events)
    endpoint_id, secret, now = new_id(), new_signing_secret(), utc_now_iso()
    sealed = key_ring(settings).seal(secret, aad=_aad(access.workspace_id, endpoint_id))
    row = {"id": endpoint_id, "url": url, "description": description.strip(), "events": events,
           "enabled": enabled, "secret_sealed": sealed, "created_at": now}
    await db.run_write(lambda conn: repo.insert_endpoint_sync(conn, access.workspace_id, row))
    created = await get_endpoint(db, access, endpoint_id)
    return {**created, "secret": secret}  # shown this once


async def get_endpoint(db: Database, access: WorkspaceAccess, endpoint_id: str) -> dict:
    access.require(MANAGE_ROLE)
    async with db.read() as conn:
        row = await repo.get_endpoint(conn, access.workspace_id, endpoint_id)
    if row is None:
        raise not_found("webhook")
    return public_endpoint(row)


async def list_endpoints(db: Database, access: WorkspaceAccess, cursor: str | None, limit: int) -> dict:
    access.require(MANAGE_ROLE)
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        rows = await repo.endpoint_page(conn, access.workspace_id, after, limit + 1)
    return page_of([public_endpoint(row) for row in rows], limit)


async def update_endpoint(db: Database, settings: Settings, access: WorkspaceAccess, endpoint_id: str,
                          changes: dict) -> dict:
    access.require(MANAGE_ROLE)
    await get_endpoint(db, access, endpoint_id)
    if "url" in changes:
        changes["url"] = clean_url(settings, changes["url"])
    if "events" in changes:
        changes["events"] = clean_events(changes["events"])
    if "description" in changes:
        changes["description"] = changes["description"].strip()
    if changes.get("enabled") is True:  # switched on again by a person: the failure clock restarts
        changes.update(failing_since=None, disabled_reason=None, disabled_at=None)
    changes["updated_at"] = utc_now_iso()
    await db.run_write(lambda conn: repo.update_endpoint_sync(conn, access.workspace_id, endpoint_id, changes))
    return await get_endpoint(db, access, endpoint_id)


async def rotate_secret(db: Database, settings: Settings, access: WorkspaceAccess, endpoint_id: str) -> dict:
    access.require(MANAGE_ROLE)
    await get_endpoint(db, access, endpoint_id)
    secret = new_signing_secret()
    sealed = key_ring(settings).seal(secret, aad=_aad(access.workspace_id, endpoint_id))
    changes = {"secret_sealed": sealed, "updated_at": utc_now_iso()}
    await db.run_write(lambda conn: repo.update_endpoint_sync(conn, access.workspace_id, endpoint_id, changes))
    return {**await get_endpoint(db, access, endpoint_id), "secret": secret}


async def delete_endpoint(db: Database, access: WorkspaceAccess, endpoint_id: str) -> None:
    access.require(MANAGE_ROLE)
    if not await db.run_write(lambda conn: repo.delete_endpoint_sync(conn, access.workspace_id, endpoint_id)):
        raise not_found("webhook")


async def send_test(db: Database, access: WorkspaceAccess, endpoint_id: str) -> dict:
    """A webhook.test message to this endpoint only, subscribed or not, enabled or not."""
    endpoint = await get_endpoint(db, access, endpoint_id)
    data = {"endpoint_id": endpoint["id"], "message": "A test event from ModelPilot: this endpoint is reachable."}
    ids = await db.run_write(lambda conn: _queue_for(conn, access.workspace_id, [endpoint_id], TEST_EVENT, data,
                                                    manual=True))
    wake(db)
    return {"delivery_id": ids[0], "event_type": TEST_EVENT, "status": "pending"}


async def redeliver(db: Database, access: WorkspaceAccess, endpoint_id: str, delivery_id: str) -> dict:
    await get_endpoint(db, access, endpoint_id)

    def requeue(conn) -> bool:
        if not repo.requeue_delivery_sync(conn, access.workspace_id, endpoint_id, delivery_id, utc_now_iso()):
            return False
        jobs.enqueue_sync(conn, access.workspace_id, DELIVER_JOB, delivery_id, {"manual": True})
        return True

    if not await db.run_write(requeue):
        raise not_found("delivery")
    wake(db)
    return {"delivery_id": delivery_id, "status": "pending"}


async def list_deliveries(db: Database, access: WorkspaceAccess, endpoint_id: str, cursor: str | None,
                          limit: int) -> dict:
    await get_endpoint(db, access, endpoint_id)
    after = decode_cursor(cursor) if cursor else None
    async with db.read() as conn:
        rows = await repo.delivery_page(conn, access.workspace_id, endpoint_id, after, limit + 1)
        attempts = await repo.attempts_of(conn, access.workspace_id, [row["id"] for row in rows[:limit]])
    by_delivery: dict[str, list[dict]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.pop("delivery_id"), []).append(attempt)
    for row in rows:
        row["attempt_log"] = by_delivery.get(row["id"], [])
    return page_of(rows, limit)


# ---- cursors ---------------------------------------------------------------------------------

def page_of(rows: list[dict], limit: int) -> dict:
    more, rows = len(rows) > limit, rows[:limit]
    cursor = None
    if more and rows:
        cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"])
    return {"items": rows, "next_cursor": cursor}

