"""Billing rows: a workspace's plan and subscription state, usage counts, the Stripe event ledger.

Usage and resource counts read other domains' tables (usage_events belongs to chat, chatbots,
documents, memberships to theirs): counting for billing is billing's job, and every count here
is filtered by workspace like any other repo query.
"""

from __future__ import annotations

from modelpilot.core.db import Connection, execute, fetch_one_sync, fetch_value, run_on
from modelpilot.core.ids import utc_now_iso

ACCOUNT_COLUMNS = (
    "workspace_id, manual_plan, stripe_customer_id, stripe_subscription_id, subscription_plan,"
    " subscription_status, subscription_created, state_version, period_start, period_end,"
    " cancel_at_period_end, payment_failed_at, payment_succeeded_at, updated_at"
)
SUBSCRIPTION_FIELDS = (
    "stripe_subscription_id", "subscription_plan", "subscription_status", "subscription_created",
    "state_version", "period_start", "period_end", "cancel_at_period_end",
)

# Resource name -> table holding one row per counted thing (see the module doc).
def get_account_sync(conn, workspace_id: str) -> dict | None:
    return fetch_one_sync(conn, f"SELECT {ACCOUNT_COLUMNS} FROM billing_accounts WHERE workspace_id = ?",
                          (workspace_id,))


async def get_account(conn: Connection, workspace_id: str) -> dict | None:
    return await run_on(conn, lambda sync: get_account_sync(sync, workspace_id))


async def ensure_account(conn: Connection, workspace_id: str) -> dict:
    """The account row, created empty on first use (write connection)."""
    await execute(conn, "INSERT INTO billing_accounts (workspace_id, updated_at) VALUES (?, ?)"
                        " ON CONFLICT (workspace_id) DO NOTHING", (workspace_id, utc_now_iso()))
    return await get_account(conn, workspace_id)


async def set_manual_plan(conn: Connection, workspace_id: str, plan_id: str | None) -> None:
    await ensure_account(conn, workspace_id)
    await execute(conn, "UPDATE billing_accounts SET manual_plan = ?, updated_at = ? WHERE workspace_id = ?",
                  (plan_id, utc_now_iso(), workspace_id))


async def set_customer(conn: Connection, workspace_id: str, customer_id: str) -> None:
    await ensure_account(conn, workspace_id)
    await execute(conn, "UPDATE billing_accounts SET stripe_customer_id = ?, updated_at = ? WHERE workspace_id = ?",
                  (customer_id, utc_now_iso(), workspace_id))


async def set_subscription(conn: Connection, workspace_id: str, state: dict) -> None:
    assignments = ", ".join(f"{name} = ?" for name in SUBSCRIPTION_FIELDS)
    values = [state[name] for name in SUBSCRIPTION_FIELDS]
    await execute(conn, f"UPDATE billing_accounts SET {assignments}, updated_at = ? WHERE workspace_id = ?",
                  (*values, utc_now_iso(), workspace_id))


async def note_payment(conn: Connection, workspace_id: str, failed: bool, at: int) -> None:
    column = "payment_failed_at" if failed else "payment_succeeded_at"
    # Keeps the newest of each kind whatever order the events arrive in (a CASE, not SQLite's
    # two-argument MAX, which Postgres spells GREATEST).
    await execute(conn, f"UPDATE billing_accounts SET {column} = CASE WHEN {column} >= ? THEN {column} ELSE ? END,"
                        " updated_at = ? WHERE workspace_id = ?", (at, at, utc_now_iso(), workspace_id))


async def workspace_of_customer(conn: Connection, customer_id: str) -> str | None:
    """Webhook lookup: Stripe names a customer, not a workspace (instance-wide by nature)."""
    return await fetch_value(conn, "SELECT workspace_id FROM billing_accounts WHERE stripe_customer_id = ?",
                             (customer_id,))



async def count_answered_messages(conn: Connection, workspace_id: str, start: str, end: str) -> int:
    """Answered messages (billable usage events) with start <= created_at < end, ISO text bounds."""
    return await fetch_value(conn, "SELECT COUNT(*) FROM usage_events WHERE workspace_id = ? AND billable = 1"
                                   " AND created_at >= ? AND created_at < ?", (workspace_id, start, end))


async def count_reservations(conn: Connection, workspace_id: str, since: str) -> int:
    """Messages admitted since `since` whose turn has not ended yet."""
    return await fetch_value(conn, "SELECT COUNT(*) FROM message_reservations WHERE workspace_id = ?"
                                   " AND created_at >= ?", (workspace_id, since))


async def add_reservation(conn: Connection, workspace_id: str, reservation_id: str, now: str) -> None:
    await execute(conn, "INSERT INTO message_reservations (id, workspace_id, created_at) VALUES (?, ?, ?)",
                  (reservation_id, workspace_id, now))


def drop_reservation_sync(conn, workspace_id: str, reservation_id: str) -> None:
    conn.execute("DELETE FROM message_reservations WHERE workspace_id = ? AND id = ?", (workspace_id, reservation_id))


async def drop_stale_reservations(conn: Connection, workspace_id: str, before: str) -> None:
    await execute(conn, "DELETE FROM message_reservations WHERE workspace_id = ? AND created_at < ?",
                  (workspace_id, before))





async def record_event(conn: Connection, event_id: str, event_type: str, created: int) -> bool:
    """Claim an event id; False when it was already applied (a replay)."""
    changed = await execute(conn, "INSERT INTO stripe_events (id, type, created, outcome, received_at)"
                                  " VALUES (?, ?, ?, 'received', ?) ON CONFLICT (id) DO NOTHING",
                            (event_id, event_type, created, utc_now_iso()))
    return changed == 1


async def finish_event(conn: Connection, event_id: str, workspace_id: str | None, outcome: str) -> None:
    await execute(conn, "UPDATE stripe_events SET workspace_id = ?, outcome = ? WHERE id = ?",
                  (workspace_id, outcome, event_id))
