-- The Postgres schema as of SQLite's migration 0008 (the Postgres backend starts there; from
-- 0009 on, each change is a file of the same number in both folders). Types follow SQLite's:
-- timestamps are ISO-8601 UTC text, flags are 0/1 integers, JSON is text, so every repo reads
-- the same values from either engine. Differences: chunk and message rowids are identity
-- columns; vectors are pgvector with an HNSW index; full text is tsvector + GIN.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,   -- stored lower-cased (core/validate.py clean_email)
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    is_owner        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    last_login_at   TEXT
);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    user_agent      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE workspaces (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    settings        TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by      TEXT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX workspaces_created_by ON workspaces(created_by);

CREATE TABLE memberships (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    accepted_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    token_sealed    TEXT
);
CREATE INDEX invitations_workspace ON invitations(workspace_id);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    token_hash      TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    created_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
CREATE INDEX api_tokens_workspace ON api_tokens(workspace_id);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    actor_user_id   TEXT,
    actor_token_id  TEXT,
    action          TEXT NOT NULL,
    target_type     TEXT NOT NULL DEFAULT '',
    target_id       TEXT NOT NULL DEFAULT '',
    details         TEXT NOT NULL DEFAULT '{}',
    ip              TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log(workspace_id, created_at);

CREATE TABLE password_resets (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets(user_id);

CREATE TABLE providers (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    sealed_key      TEXT NOT NULL,
    key_mask        TEXT NOT NULL,
    api_base        TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, provider)
);

CREATE TABLE chatbots (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    system_prompt     TEXT NOT NULL DEFAULT '',
    model             TEXT NOT NULL,
    temperature       DOUBLE PRECISION NOT NULL DEFAULT 0.3,
    max_tokens        INTEGER NOT NULL DEFAULT 800,
    greeting          TEXT NOT NULL DEFAULT '',
    accent_color      TEXT NOT NULL DEFAULT '#4f46e5',
    position          TEXT NOT NULL DEFAULT 'bottom-right',
    starter_questions TEXT NOT NULL DEFAULT '[]',
    allowed_origins   TEXT NOT NULL DEFAULT '[]',
    published         INTEGER NOT NULL DEFAULT 0,
    top_k             INTEGER NOT NULL DEFAULT 5,
    score_threshold   DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX chatbots_workspace ON chatbots(workspace_id, created_at);

CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id        TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    session_id        TEXT NOT NULL,
    channel           TEXT NOT NULL DEFAULT 'api' CHECK (channel IN ('api', 'preview', 'widget')),
    visitor_ip_hash   TEXT NOT NULL DEFAULT '',
    started_at        TEXT NOT NULL,
    last_message_at   TEXT NOT NULL,
    message_count     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (chatbot_id, channel, session_id)
);
CREATE INDEX conversations_workspace ON conversations(workspace_id, last_message_at);
CREATE INDEX conversations_bot ON conversations(workspace_id, chatbot_id, last_message_at);

-- rowid: insertion order, the tie-breaker of messages saved in the same millisecond (as
-- SQLite's implicit rowid). content_tsv: the conversation list's `q` (SQLite: messages_fts).
CREATE TABLE messages (
    rowid             BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    chatbot_id        TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content           TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'partial', 'error')),
    error             TEXT,
    sources           TEXT NOT NULL DEFAULT '[]',
    model             TEXT,
    tokens_in         INTEGER NOT NULL DEFAULT 0,
    tokens_out        INTEGER NOT NULL DEFAULT 0,
    cost              DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_first_ms  INTEGER,
    latency_total_ms  INTEGER,
    feedback          INTEGER CHECK (feedback IN (-1, 1)),
    created_at        TEXT NOT NULL,
    content_tsv       tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_workspace ON messages(workspace_id, created_at);
CREATE INDEX messages_fts ON messages USING gin (content_tsv);

CREATE TABLE usage_events (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id        TEXT,
    conversation_id   TEXT,
    message_id        TEXT,
    channel           TEXT NOT NULL DEFAULT 'api',
    model             TEXT NOT NULL DEFAULT '',
    tokens_in         INTEGER NOT NULL DEFAULT 0,
    tokens_out        INTEGER NOT NULL DEFAULT 0,
    cost              DOUBLE PRECISION NOT NULL DEFAULT 0,
    latency_ms        INTEGER,
    created_at        TEXT NOT NULL,
    billable          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX usage_events_workspace ON usage_events(workspace_id, created_at);

CREATE TABLE message_reservations (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL
);
CREATE INDEX message_reservations_workspace ON message_reservations(workspace_id, created_at);

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id      TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    source_type     TEXT NOT NULL CHECK (source_type IN ('file', 'url', 'text', 'faq')),
    title           TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    content_type    TEXT NOT NULL DEFAULT '',
    mode            TEXT CHECK (mode IN ('page', 'sitemap', 'site')),
    max_pages       INTEGER,
    refresh_hours   INTEGER,
    body            BYTEA,
    size_bytes      INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'processing', 'indexed', 'error')),
    progress        DOUBLE PRECISION NOT NULL DEFAULT 0,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    generation      INTEGER NOT NULL DEFAULT 1,
    embed_model     TEXT,
    embed_dim       INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    indexed_at      TEXT,
    next_refresh_at TEXT
);
CREATE INDEX documents_bot ON documents(workspace_id, chatbot_id, created_at);
CREATE INDEX documents_refresh ON documents(next_refresh_at) WHERE next_refresh_at IS NOT NULL;

CREATE TABLE document_pages (
    document_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    workspace_id    TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL,
    fetched_at      TEXT NOT NULL,
    PRIMARY KEY (document_id, url)
);

-- The integer rowid is shared with chunk_vectors (as on SQLite); the keyword index is a
-- generated tsvector weighted like SQLite's bm25 columns (text A, heading B, title C).
CREATE TABLE chunks (
    rowid           BIGINT PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    workspace_id    TEXT NOT NULL,
    chatbot_id      TEXT NOT NULL,
    document_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal         INTEGER NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'faq')),
    title           TEXT NOT NULL DEFAULT '',
    url             TEXT,
    page            INTEGER,
    heading         TEXT,
    text            TEXT NOT NULL,
    answer          TEXT,
    token_count     INTEGER NOT NULL DEFAULT 0,
    fts             tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', text), 'A')
                        || setweight(to_tsvector('english', coalesce(heading, '')), 'B')
                        || setweight(to_tsvector('english', title), 'C')) STORED
);
CREATE INDEX chunks_document ON chunks(document_id, url);
CREATE INDEX chunks_bot ON chunks(workspace_id, chatbot_id);
CREATE INDEX chunks_fts ON chunks USING gin (fts);

CREATE TABLE chunk_vectors (
    rowid           BIGINT PRIMARY KEY REFERENCES chunks(rowid) ON DELETE CASCADE,
    chatbot_id      TEXT NOT NULL,
    embedding       vector(384) NOT NULL
);
CREATE INDEX chunk_vectors_bot ON chunk_vectors(chatbot_id);
CREATE INDEX chunk_vectors_hnsw ON chunk_vectors USING hnsw (embedding vector_cosine_ops);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    ref_id          TEXT NOT NULL,
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'done', 'error')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_after       TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_after);
CREATE INDEX jobs_ref ON jobs(ref_id);

CREATE TABLE embedding_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    model           TEXT NOT NULL,
    dim             INTEGER NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE widget_daily_usage (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id      TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    day             TEXT NOT NULL,
    messages        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chatbot_id, day)
);
CREATE INDEX widget_daily_usage_workspace ON widget_daily_usage(workspace_id, day);

CREATE TABLE billing_accounts (
    workspace_id            TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    manual_plan             TEXT,
    stripe_customer_id      TEXT UNIQUE,
    stripe_subscription_id  TEXT,
    subscription_plan       TEXT,
    subscription_status     TEXT,
    subscription_created    BIGINT,
    state_version           BIGINT NOT NULL DEFAULT 0,
    period_start            TEXT,
    period_end              TEXT,
    cancel_at_period_end    INTEGER NOT NULL DEFAULT 0,
    payment_failed_at       BIGINT,
    payment_succeeded_at    BIGINT,
    updated_at              TEXT NOT NULL
);

CREATE TABLE stripe_events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    created         BIGINT NOT NULL,
    workspace_id    TEXT,
    outcome         TEXT NOT NULL,
    received_at     TEXT NOT NULL
);
