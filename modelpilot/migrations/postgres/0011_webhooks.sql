-- Outbound webhooks (Standard Webhooks). An endpoint belongs to one workspace; its signing
-- secret is sealed like provider keys. A delivery is one message for one endpoint, written in
-- the transaction of the change that caused it (the outbox) together with its job row; each
-- attempt is kept, so the log shows when it was tried and what the receiver answered.

CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    events           TEXT NOT NULL DEFAULT '[]',
    enabled          INTEGER NOT NULL DEFAULT 1,
    secret_sealed    TEXT NOT NULL,
    failing_since    TEXT,
    disabled_reason  TEXT,
    disabled_at      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_ws ON webhook_endpoints(workspace_id, created_at);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_attempt_at  TEXT,
    response_code    INTEGER,
    response_excerpt TEXT,
    duration_ms      INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at, id);

CREATE TABLE webhook_attempts (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempted_at     TEXT NOT NULL,
    response_code    INTEGER,
    duration_ms      INTEGER NOT NULL,
    error            TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, attempted_at);
