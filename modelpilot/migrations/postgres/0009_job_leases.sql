-- Many nodes on one database: a claimed job carries a lease its node renews while it runs, so
-- a node that dies leaves the job to whichever node sees the lease expire; scheduled
-- housekeeping records the last time slot it ran in, so a fleet runs each slot once; and
-- throttles count hits here, so a limit holds across every node.

ALTER TABLE jobs ADD COLUMN lease_until TEXT;
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;

CREATE TABLE scheduled_runs (
    name        TEXT PRIMARY KEY,
    slot        BIGINT NOT NULL,
    node        TEXT NOT NULL,
    ran_at      TEXT NOT NULL
);

CREATE TABLE rate_hits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         TEXT NOT NULL,
    at          DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_hits_key ON rate_hits(key, at);
CREATE INDEX rate_hits_expiry ON rate_hits(expires_at);
