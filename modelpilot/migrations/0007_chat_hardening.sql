-- foreign_keys: off
-- (The conversations table is rebuilt below; with foreign keys on, dropping the old table would
-- cascade-delete every message. The runner checks foreign keys before this commits.)

-- Quota holds: one row per message between its admission and the end of its turn, so parallel
-- chats cannot all pass the quota check before any of them is counted.
CREATE TABLE message_reservations (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL
);
CREATE INDEX message_reservations_workspace ON message_reservations(workspace_id, created_at);

-- A turn that failed before any text (upstream error, client gone) is kept for analytics but
-- does not use up the plan's message quota.
ALTER TABLE usage_events ADD COLUMN billable INTEGER NOT NULL DEFAULT 1;

-- A session id belongs to one channel: the widget's visitors and the dashboard preview / API
-- no longer share a namespace, so neither can read or write the other's conversation.
CREATE TABLE conversations_new (
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
INSERT INTO conversations_new (id, workspace_id, chatbot_id, session_id, channel, visitor_ip_hash, started_at,
                               last_message_at, message_count)
    SELECT id, workspace_id, chatbot_id, session_id, channel, visitor_ip_hash, started_at, last_message_at,
           message_count FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_new RENAME TO conversations;
CREATE INDEX conversations_workspace ON conversations(workspace_id, last_message_at);
CREATE INDEX conversations_bot ON conversations(workspace_id, chatbot_id, last_message_at);
