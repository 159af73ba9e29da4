"""Plans in force, usage per period, and the quota checks other domains call before they act.

Interfaces for other domains (all raise ApiError 402 when the plan says no):
  await reserve_message(db, settings, workspace_id) -> hold id      before any upstream LLM call;
      then settle_message_sync(conn, workspace_id, hold) in the transaction that records the usage
      event, or release_message(db, workspace_id, hold) when the turn never got that far
  await ensure_under_limit_in(conn, settings, workspace_id, "chatbots", count)
      in the transaction that creates a bot (documents, members likewise); `count(conn)` is the
      owning domain's count: billing reads no other domain's tables
  await billing_status(db, settings, workspace_id, counters)        what /billing shows

Without a Stripe secret key billing is off: only a plan set by hand (`modelpilot set-plan`)
limits a workspace. With it, a workspace without an active subscription is on the default plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping

from modelpilot.billing import repo
from modelpilot.billing.plans import RESOURCES, Plan, load_catalog
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError
from modelpilot.core.ids import iso_from_epoch, new_id
from modelpilot.settings import Settings

# Subscriptions in these states keep their plan; past_due is Stripe's retry window after a
# failed payment, so the customer keeps service while Stripe retries.
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})
WARNING_SHARE = 0.8
# A hold older than this belongs to a turn that can no longer be running (the process stopped
# mid-stream): it stops counting, so a crash never eats into the quota for good.
RESERVATION_TTL_SECONDS = 3600


def billing_enabled(settings: Settings) -> bool:
    return bool(settings.stripe_secret_key)


@dataclass(frozen=True)
class Standing:
    """What applies to a workspace right now: its plan (None: no limits) and its usage period."""

    plan: Plan | None
    period_start: str
    period_end: str
    account: dict | None
    subscribed: bool


def subscription_is_live(account: dict | None) -> bool:
    return bool(account and account["stripe_subscription_id"] and account["subscription_status"] in LIVE_STATUSES)


def plan_in_force(settings: Settings, account: dict | None) -> Plan | None:
    catalog = load_catalog(settings)
    enabled = billing_enabled(settings)
    if enabled and subscription_is_live(account):
        plan = catalog.get(account["subscription_plan"])
        if plan is not None:
            return plan
    if account and account["manual_plan"]:
        plan = catalog.get(account["manual_plan"])
        if plan is not None:  # a plan since removed from the file falls back below
            return plan
    return catalog.default if enabled else None


def calendar_month(now: float) -> tuple[str, str]:
    year, month = time.gmtime(now)[:2]
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01T00:00:00.000Z", f"{next_year:04d}-{next_month:02d}-01T00:00:00.000Z"


def usage_period(account: dict | None, now: float, subscribed: bool) -> tuple[str, str]:
    """The subscription's current period while it covers now, else the calendar month (UTC)."""
    now_iso = iso_from_epoch(now)
    if subscribed and account["period_start"] and account["period_end"]:
        if account["period_start"] <= now_iso < account["period_end"]:
            return account["period_start"], account["period_end"]
    return calendar_month(now)


async def standing_in(conn: Connection, settings: Settings, workspace_id: str) -> Standing:
    return standing_of(settings, await repo.get_account(conn, workspace_id))


def account_sync(conn, workspace_id: str) -> dict | None:
    """The workspace's billing account row on a blocking connection (None: never billed), for a
    caller that reads it with other things in one hop (chat's turn): reserve_message's `account`."""
    return repo.get_account_sync(conn, workspace_id)


def standing_of(settings: Settings, account: dict | None) -> Standing:
    subscribed = billing_enabled(settings) and subscription_is_live(account)
    start, end = usage_period(account, time.time(), subscribed)
    return Standing(plan_in_force(settings, account), start, end, account, subscribed)


def quota_exceeded(plan: Plan, used: int, period_end: str) -> ApiError:
    return ApiError(
        402, "quota_exceeded",
        "This assistant has reached its message limit for now. Please try again later.",
        {"plan": plan.id, "quota": plan.monthly_messages, "used": used, "period_end": period_end},
    )


async def reserve_message(db: Database, settings: Settings, workspace_id: str, account: Any = ...) -> str | None:
    """Hold one message of the period's quota, or raise 402 quota_exceeded; None when unlimited.

    The count (answered messages plus holds of turns still running) and the new hold are one
    write transaction: parallel chats are admitted one at a time, so they never pass the quota.
    `account`: account_sync's row when the caller has read it already (left out: read here).
    """
    if account is ...:
        async with db.read() as conn:  # unlimited workspaces (most installs) never take the writer
            account = await repo.get_account(conn, workspace_id)
    standing = standing_of(settings, account)
    if standing.plan is None or standing.plan.monthly_messages is None:
        return None
    now = time.time()
    async with db.write() as conn:
        standing = await standing_in(conn, settings, workspace_id)
        plan = standing.plan
        if plan is None or plan.monthly_messages is None:
            return None
        stale_before = iso_from_epoch(now - RESERVATION_TTL_SECONDS)
        await repo.drop_stale_reservations(conn, workspace_id, stale_before)
        used = await repo.count_answered_messages(conn, workspace_id, standing.period_start, standing.period_end)
        held = await repo.count_reservations(conn, workspace_id, stale_before)
        if used + held >= plan.monthly_messages:
            raise quota_exceeded(plan, used + held, standing.period_end)
        hold = new_id()
        await repo.add_reservation(conn, workspace_id, hold, iso_from_epoch(now))
    return hold


def settle_message_sync(conn, workspace_id: str, hold: str | None) -> None:
    """The turn's usage event is being written on conn (inside Database.run_write): the hold
    has done its job."""
    if hold:
        repo.drop_reservation_sync(conn, workspace_id, hold)


async def release_message(db: Database, workspace_id: str, hold: str | None) -> None:
    """Give a held message back (the turn ended before anything was recorded)."""
    if hold:
        await db.run_write(lambda conn: repo.drop_reservation_sync(conn, workspace_id, hold))


def limit_reached(plan: Plan, resource: str, limit: int) -> ApiError:
    noun = resource if limit != 1 else resource.rstrip("s")
    return ApiError(
        402, "plan_limit_reached",
        f"The {plan.name} plan allows {limit} {noun}; upgrade the plan or remove one first.",
        {"plan": plan.id, "resource": resource, "limit": limit},
    )


# Counts the workspace's `resource` on the caller's connection. The domain that owns the resource
# counts it (billing reads no other domain's tables); billing only compares with the plan.
Count = Callable[[Connection], Awaitable[int]]
ResourceCounters = Mapping[str, Callable[[Connection, str], Awaitable[int]]]


@dataclass(frozen=True)
class TenantLookups:
    """What billing asks of the domains above it (it must not import them): how many of each
    resource a workspace has, and whether a workspace exists. Built where the app is assembled."""

    counters: ResourceCounters
    workspace_exists: Callable[[Connection, str], Awaitable[bool]]


async def ensure_under_limit_in(conn: Connection, settings: Settings, workspace_id: str, resource: str,
                                count: Count) -> None:
    """402 plan_limit_reached when one more `resource` would pass the plan's limit. Call it inside
    the insert's write transaction, so concurrent creates cannot both pass; `count` runs only when
    the plan limits the resource."""
    if resource not in RESOURCES:
        raise ValueError(f"unknown resource {resource!r}; expected one of {RESOURCES}")
    standing = await standing_in(conn, settings, workspace_id)
    limit = standing.plan.limit(resource) if standing.plan else None
    if limit is not None and await count(conn) >= limit:
        raise limit_reached(standing.plan, resource, limit)


def _stripe_part(standing: Standing) -> dict:
    account = standing.account or {}
    failed, succeeded = account.get("payment_failed_at"), account.get("payment_succeeded_at")
    return {
        "customer": bool(account.get("stripe_customer_id")),
        "status": account.get("subscription_status"),
        "cancel_at_period_end": bool(account.get("cancel_at_period_end")),
        "payment_failed": bool(failed and failed > (succeeded or 0)),
    }


async def billing_status(db: Database, settings: Settings, workspace_id: str, counters: ResourceCounters) -> dict:
    """Plan, quota, usage this period, period end and Stripe state; warning at 80 % of the quota."""
    async with db.read() as conn:
        standing = await standing_in(conn, settings, workspace_id)
        used = await repo.count_answered_messages(conn, workspace_id, standing.period_start, standing.period_end)
        counts = {name: await counters[name](conn, workspace_id) for name in RESOURCES}
    plan, enabled = standing.plan, billing_enabled(settings)
    quota = plan.monthly_messages if plan else None
    status = {
        "enabled": enabled,
        "plan": plan.public() if plan else None,
        "quota": quota,
        "used": used,
        "period_start": standing.period_start,
        "period_end": standing.period_end,
        "warning": quota is not None and used >= quota * WARNING_SHARE,
        "over_quota": quota is not None and used >= quota,
        "resources": {name: {"used": counts[name], "limit": plan.limit(name) if plan else None}
                      for name in RESOURCES},
        "stripe": _stripe_part(standing) if enabled else None,
        "plans": [p.public() for p in load_catalog(settings).plans.values()] if enabled else [],
    }
    if not enabled:
        status["message"] = "Billing is disabled on this instance."
    return status
