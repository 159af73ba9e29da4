-- LLM providers, chatbots, conversations, messages and usage events.

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
    temperature       REAL NOT NULL DEFAULT 0.3,
    max_tokens        INTEGER NOT NULL DEFAULT 800,
    greeting          TEXT NOT NULL DEFAULT '',
    accent_color      TEXT NOT NULL DEFAULT '#4f46e5',
    position          TEXT NOT NULL DEFAULT 'bottom-right',
    starter_questions TEXT NOT NULL DEFAULT '[]',
    allowed_origins   TEXT NOT NULL DEFAULT '[]',
    published         INTEGER NOT NULL DEFAULT 0,
    top_k             INTEGER NOT NULL DEFAULT 5,
    score_threshold   REAL NOT NULL DEFAULT 0.0,
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
    UNIQUE (chatbot_id, session_id)
);
CREATE INDEX conversations_workspace ON conversations(workspace_id, last_message_at);

CREATE TABLE messages (
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
    cost              REAL NOT NULL DEFAULT 0,
    latency_first_ms  INTEGER,
    latency_total_ms  INTEGER,
    feedback          INTEGER CHECK (feedback IN (-1, 1)),
    created_at        TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_workspace ON messages(workspace_id, created_at);

-- One row per answered message; kept when a bot is deleted, so usage and billing stay true.
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
    cost              REAL NOT NULL DEFAULT 0,
    latency_ms        INTEGER,
    created_at        TEXT NOT NULL
);
CREATE INDEX usage_events_workspace ON usage_events(workspace_id, created_at);

-- Conversation lists filter by bot within a workspace, newest first.
CREATE INDEX conversations_bot ON conversations(workspace_id, chatbot_id, last_message_at);

-- Full-text search over message text for the conversation list's `q`; kept in step by triggers
-- (cascaded deletes fire them too).
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
END;
