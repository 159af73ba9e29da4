"""Sending deliveries: the job handler the webhook worker runs for each due delivery.

Deliveries are jobs in the scheduler's durable queue (kind `webhook.deliver`), run by a worker
of their own (MODELPILOT_WEBHOOK_CONCURRENCY slots) so a slow receiver never holds up
ingestion. The claim, leases and take-over of a dead node's work are the job queue's: on
Postgres `FOR UPDATE SKIP LOCKED` under the fleet's write lock, on SQLite the single writer. So
each attempt runs on one node, and a delivery pending at a crash or restart is sent afterwards.

One attempt: POST the stored body, signed anew (Standard Webhooks: the signature covers
id.timestamp.body, and the timestamp is the attempt's), through the SSRF-guarded transport,
redirects not followed, answer within MODELPILOT_WEBHOOK_TIMEOUT_SECONDS. A 2xx ends the
delivery; anything else is retried on the schedule of MODELPILOT_WEBHOOK_RETRY_SECONDS, with
jitter, and an endpoint that has failed without a single success for
MODELPILOT_WEBHOOK_DISABLE_AFTER_SECONDS is disabled, with the reason kept for the dashboard.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import time
from dataclasses import dataclass

import anyio
import httpx

from modelpilot.core.db import Database
from modelpilot.core.ids import epoch_from_iso, iso_from_epoch, new_id, utc_now_iso
from modelpilot.core.safe_http import AddressPolicy, FetchError, guarded_transport
from modelpilot.scheduler.worker import YIELD_SECONDS, JobWorker, Settle
from modelpilot.settings import Settings
from modelpilot.webhooks import repo, service
from modelpilot.webhooks.signing import signature_header

log = logging.getLogger("modelpilot.webhooks")
EXCERPT_BYTES = 1024
USER_AGENT = "ModelPilot-Webhooks/1.0"
JITTER = 0.1
REFUSAL_HINT = ("An administrator can allow private addresses for webhooks, actions and MCP servers with "
                "MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true.")


@dataclass
class Answer:
    code: int | None
    excerpt: str | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def outbound_client(settings: Settings, trusted: frozenset = frozenset()) -> httpx.AsyncClient:
    policy = AddressPolicy(settings.outbound_allow_private,
                           frozenset(ipaddress.ip_address(a) for a in trusted), refusal_hint=REFUSAL_HINT)
    timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=min(5.0, settings.webhook_timeout_seconds))
    return httpx.AsyncClient(transport=guarded_transport(policy), timeout=timeout, follow_redirects=False,
                             trust_env=False, headers={"User-Agent": USER_AGENT})


async def post_once(client: httpx.AsyncClient, settings: Settings, url: str, headers: dict, body: bytes) -> Answer:
    started = time.monotonic()
    code = excerpt = error = None
    try:
        with anyio.fail_after(settings.webhook_timeout_seconds):
            async with client.stream("POST", url, content=body, headers=headers) as response:
                code, excerpt = response.status_code, await _excerpt(response)
    except TimeoutError:
        error = f"no answer within {settings.webhook_timeout_seconds:g} s"
    except FetchError as exc:  # the address guard: a private or unresolvable host
        error = exc.message
    except httpx.TimeoutException:
        error = f"no answer within {settings.webhook_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        error = f"could not connect: {exc or type(exc).__name__}"
    return Answer(code, excerpt, error, round((time.monotonic() - started) * 1000))


async def _excerpt(response: httpx.Response) -> str:
    """The first KB of the answer, for the log; the rest is never read."""
    taken = bytearray()
    async for part in response.aiter_bytes():
        taken += part
        if len(taken) >= EXCERPT_BYTES:
            break
    # NUL cannot be stored in a Postgres text column: a receiver sending one must not lose the attempt.
    return bytes(taken[:EXCERPT_BYTES]).decode("utf-8", "replace").replace("\x00", "\ufffd")


def retry_delay(schedule: tuple, attempts: int) -> float | None:
    """Seconds until the next try after `attempts` failures, or None: give up."""
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


class DeliverySender:
    """The handler of webhook.deliver jobs, holding the shared HTTP client of this node."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings, self.client = settings, client

    async def __call__(self, db: Database, job: dict) -> Settle | None:
        """Read the delivery, POST it (no transaction open meanwhile), and hand the worker the
        write that records the attempt: it runs with the job's end or next try in one transaction."""
        ws, delivery_id = job["workspace_id"], job["ref_id"]
        found = await db.run_read(lambda conn: repo.delivery_to_send_sync(conn, ws, delivery_id))
        if found is None or found["status"] != "pending":
            return None  # deleted with its endpoint, or already settled (a job resumed after its result was saved)
        manual = bool(job["payload"].get("manual"))
        if not found["enabled"] and not manual:
            return Settle(lambda conn: repo.end_delivery_sync(
                conn, ws, delivery_id, "failed", "not sent: the endpoint is disabled", utc_now_iso()))
        await db.foreground.quiet(YIELD_SECONDS)  # the read took a moment: a chat turn may have begun since
        answer = await self._send(ws, found)
        return Settle(lambda conn: self._record(conn, ws, found, answer), answer.error or f"HTTP {answer.code}")

    async def _send(self, ws: str, found: dict) -> Answer:
        secret = service.open_secret(self.settings, ws, found["endpoint_id"], found["secret_sealed"])
        body, timestamp = found["body"].encode("utf-8"), int(time.time())
        headers = {"content-type": "application/json", "webhook-id": found["message_id"],
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": signature_header(secret, found["message_id"], timestamp, body)}
        return await post_once(self.client, self.settings, found["url"], headers, body)

    def _record(self, conn, ws: str, found: dict, answer: Answer) -> float | None:
        """The attempt, the delivery's new state and the endpoint's health, in one transaction;
        returns the wait before the next try (None: done or given up)."""
        now_epoch = time.time()
        now, attempts = iso_from_epoch(now_epoch), found["attempts"] + 1
        delay = None if answer.ok else retry_delay(self.settings.webhook_retry_seconds, attempts)
        status = "succeeded" if answer.ok else ("pending" if delay is not None else "failed")
        attempt = {"id": new_id(), "attempted_at": now, "response_code": answer.code,
                   "duration_ms": answer.duration_ms, "error": answer.error}
        repo.record_attempt_sync(conn, ws, found["id"], attempt, {
            "status": status, "attempts": attempts, "response_excerpt": answer.excerpt,
            "next_attempt_at": iso_from_epoch(now_epoch + delay) if delay is not None else None})
        self._endpoint_health(conn, ws, found, answer, now, now_epoch)
        return delay

    def _endpoint_health(self, conn, ws: str, found: dict, answer: Answer, now: str, now_epoch: float) -> None:
        if answer.ok:
            if found["failing_since"]:
                repo.update_endpoint_sync(conn, ws, found["endpoint_id"], {"failing_since": None})
            return
        since = found["failing_since"]
        if not since:
            repo.update_endpoint_sync(conn, ws, found["endpoint_id"], {"failing_since": now})
            return
        failing_for = now_epoch - epoch_from_iso(since)
        if found["enabled"] and failing_for >= self.settings.webhook_disable_after_seconds:
            what = answer.error or f"HTTP {answer.code}"
            reason = (f"Disabled automatically on {now[:16].replace('T', ' ')} UTC: every delivery has failed "
                      f"since {since[:16].replace('T', ' ')} UTC (last: {what}). Fix the receiver, then enable "
                      "the endpoint again.")
            log.warning("webhook endpoint %s disabled after failing since %s", found["endpoint_id"], since)
            repo.update_endpoint_sync(conn, ws, found["endpoint_id"],
                                      {"enabled": False, "disabled_reason": reason, "disabled_at": now})


async def give_up_delivery(db: Database, job: dict, message: str) -> None:
    """An unexpected error in the handler: the delivery shows it instead of staying pending."""
    await db.run_write(lambda conn: repo.end_delivery_sync(conn, job["workspace_id"], job["ref_id"], "failed",
                                                           f"not sent: {message}", utc_now_iso()))


LOG_DAYS = 30          # the delivery log keeps settled deliveries this long
PRUNE_SECONDS = 3600.0
PRUNE_BATCH = 1000     # rows per write transaction, so the writer is never held long


async def prune_delivery_log(db: Database) -> int:
    """Settled deliveries older than LOG_DAYS leave the log; pending ones stay whatever their age."""
    before, total = iso_from_epoch(time.time() - LOG_DAYS * 86400), 0
    while True:
        deleted = await db.run_write(lambda conn: repo.prune_settled_sync(conn, before, PRUNE_BATCH))
        total += deleted
        if deleted < PRUNE_BATCH:
            return total


@dataclass
class WebhookDelivery:
    worker: JobWorker
    client: httpx.AsyncClient


async def start_webhooks(db: Database, settings: Settings, scheduler=None,
                         trusted: frozenset = frozenset()) -> WebhookDelivery:
    """scheduler: app.state["scheduler"], for the hourly pruning of the delivery log."""
    client = outbound_client(settings, trusted)
    worker = JobWorker(db, slots=settings.webhook_concurrency, node=settings.node_name,
                       lease_seconds=settings.job_lease_seconds, yield_to=db.foreground)
    # The handler keeps its own schedule (retry_in); the worker's attempt cap is only a backstop.
    worker.register(service.DELIVER_JOB, DeliverySender(settings, client), give_up_delivery,
                    max_attempts=len(settings.webhook_retry_seconds) + 10)
    await worker.start()
    service.register_waker(db, worker.wake)
    if scheduler is not None:
        scheduler.add_interval_job("webhooks.prune", lambda: prune_delivery_log(db), PRUNE_SECONDS,
                                   once_per_fleet=True)
    return WebhookDelivery(worker, client)


async def stop_webhooks(running: WebhookDelivery) -> None:
    """A delivery cut off here stays pending and is sent again at the next start."""
    await running.worker.stop()
    await running.client.aclose()
