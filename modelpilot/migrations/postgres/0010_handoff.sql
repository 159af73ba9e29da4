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
CREATE INDEX conversations_inbox ON conversations(workspace_id, status, waiting_since, last_message_at);
CREATE INDEX conversations_assignee ON conversations(workspace_id, assignee_id, status);

ALTER TABLE chatbots ADD COLUMN handoff TEXT NOT NULL DEFAULT '{}';

ALTER TABLE memberships ADD COLUMN notify_waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'editor', 'agent', 'viewer'));
ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'editor', 'agent', 'viewer'));

ALTER TABLE messages DROP CONSTRAINT messages_role_check;
ALTER TABLE messages ADD CONSTRAINT messages_role_check CHECK (role IN ('user', 'assistant', 'operator', 'system'));
ALTER TABLE messages ADD COLUMN author_id TEXT;
ALTER TABLE messages ADD COLUMN author_name TEXT;

-- The durable log of what a conversation's live viewers see; ids increase in commit order (every
-- write transaction holds the fleet-wide advisory lock), so a stream resumes after Last-Event-ID.
CREATE TABLE conversation_events (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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

CREATE TABLE saved_replies (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title             TEXT NOT NULL,
    text              TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX saved_replies_workspace ON saved_replies(workspace_id, title);
