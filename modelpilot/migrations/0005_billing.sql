-- Billing: each workspace's plan and Stripe subscription state, and the ledger of Stripe events.

CREATE TABLE billing_accounts (
    workspace_id            TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    -- set by the instance owner with `modelpilot set-plan`; used when no subscription is active
    manual_plan             TEXT,
    stripe_customer_id      TEXT UNIQUE,
    stripe_subscription_id  TEXT,
    subscription_plan       TEXT,
    subscription_status     TEXT,
    -- Stripe's own timestamps (epoch seconds) decide between out-of-order events:
    -- subscription_created orders two subscriptions, state_version (the event's `created`,
    -- 0 for state inferred from a checkout) orders two snapshots of one subscription.
    subscription_created    INTEGER,
    state_version           INTEGER NOT NULL DEFAULT 0,
    period_start            TEXT,
    period_end              TEXT,
    cancel_at_period_end    INTEGER NOT NULL DEFAULT 0,
    -- order-independent payment state: a problem while the last failure is newer than the last success
    payment_failed_at       INTEGER,
    payment_succeeded_at    INTEGER,
    updated_at              TEXT NOT NULL
);

-- Every Stripe event applied, recorded in the same transaction as its effect: a replay is a no-op.
-- Instance-wide on purpose: an event names its workspace only through its content.
CREATE TABLE stripe_events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    created         INTEGER NOT NULL,
    workspace_id    TEXT,
    outcome         TEXT NOT NULL,
    received_at     TEXT NOT NULL
);
