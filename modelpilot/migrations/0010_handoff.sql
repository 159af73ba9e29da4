-- foreign_keys: off
-- (memberships, invitations and messages are rebuilt below to widen their CHECKs; with foreign
-- keys on, dropping the old tables would cascade. The runner checks foreign keys before commit.)

-- Human handoff (issue 17): a conversation is answered by the bot, waits for a person, is held
-- by one operator, or is closed. waiting_notified: the waiting_since an e-mail was sent for, so
-- each wait is announced once. page_url: the page the visitor asked from (shown to operators).
ALTER TABLE conversations ADD COLUMN status TEXT NOT NULL DEFAULT 'bot'
    CHECK (status IN ('bot', 'waiting', 'human', 'closed'));
ALTER TABLE conversations ADD COLUMN assignee_id TEXT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN waiting_since TEXT;
ALTER TABLE conversations ADD COLUMN waiting_notified TEXT;
ALTER TABLE conversations ADD COLUMN handoff_at TEXT;
ALTER TABLE conversations ADD COLUMN first_human_reply_at TEXT;
ALTER TABLE conversations ADD COLUMN page_url TEXT;
-- The inbox: live conversations of a workspace by status (waiting oldest first, others by last message).
CREATE INDEX conversations_inbox ON conversations(workspace_id, status, waiting_since, last_message_at);
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, status);

-- The bot's handoff settings as one JSON object (enabled, button_label, keywords, hours, offline_message).
ALTER TABLE chatbots ADD COLUMN handoff TEXT NOT NULL DEFAULT '{}';

-- Members opt in to an e-mail when a conversation waits too long.
CREATE TABLE memberships_new (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'agent', 'viewer')),
    created_at      TEXT NOT NULL,
    notify_waiting  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, user_id)
);
INSERT INTO memberships_new (workspace_id, user_id, role, created_at)
    SELECT workspace_id, user_id, role, created_at FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations_new (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email           TEXT NOT NULL COLLATE NOCASE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'agent', 'viewer')),
    token_hash      TEXT NOT NULL UNIQUE,
    invited_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    accepted_by     TEXT REFERENCES users(id) ON DELETE SET NULL,
    token_sealed    TEXT
);
INSERT INTO invitations_new SELECT id, workspace_id, email, role, token_hash, invited_by, created_at, expires_at,
    accepted_at, accepted_by, token_sealed FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;
CREATE INDEX invitations_workspace ON invitations(workspace_id);

-- Messages gain operator replies (with the author's name) and system lines (state changes).
-- rowid is kept: messages_fts points at it.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TABLE messages_new (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    chatbot_id        TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'operator', 'system')),
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
    created_at        TEXT NOT NULL,
    author_id         TEXT,
    author_name       TEXT
);
INSERT INTO messages_new (rowid, id, workspace_id, conversation_id, chatbot_id, role, content, status, error, sources,
                          model, tokens_in, tokens_out, cost, latency_first_ms, latency_total_ms, feedback, created_at)
    SELECT rowid, id, workspace_id, conversation_id, chatbot_id, role, content, status, error, sources, model,
           tokens_in, tokens_out, cost, latency_first_ms, latency_total_ms, feedback, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_workspace ON messages(workspace_id, created_at);
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

-- The durable log of what a conversation's live viewers see (status changes, operator, system and
-- visitor messages). Ids increase in commit order (one writer), so an event stream resumes after
-- Last-Event-ID by reading the rows past it; live delivery only says "there is more".
CREATE TABLE conversation_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    chatbot_id        TEXT NOT NULL,
    type              TEXT NOT NULL,
    status            TEXT NOT NULL,
    assignee_id       TEXT,
    assignee_name     TEXT,
    message           TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX conversation_events_conversation ON conversation_events(conversation_id, id);
CREATE INDEX conversation_events_workspace ON conversation_events(workspace_id, id);

-- Canned answers an operator inserts with a click.
CREATE TABLE saved_replies (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title             TEXT NOT NULL,
    text              TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX saved_replies_workspace ON saved_replies(workspace_id, title);
