-- Leads, contacts and verified visitors (issue 18); the same schema as migrations/0013_leads.sql.
-- A contact is one person per workspace: by e-mail (lower-cased) or by the verified `sub` of a
-- host site's identity token (external_id). contact_sessions ties a widget session of a bot to
-- its contact: a lead form sent from that session, or (verified = 1) the one canonical session
-- the server keeps for a verified visitor on that bot, whichever device they come from.
-- A chatbot gains its lead form, the visitor-context switch and its sealed identity secret.

CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email         TEXT,
    name          TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    company       TEXT NOT NULL DEFAULT '',
    fields        TEXT NOT NULL DEFAULT '{}',
    external_id   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_seen_at  TEXT
);
CREATE UNIQUE INDEX contacts_email ON contacts(workspace_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_external ON contacts(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_recent ON contacts(workspace_id, created_at, id);

CREATE TABLE contact_sessions (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id    TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    session_id    TEXT NOT NULL,
    contact_id    TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    verified      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (chatbot_id, session_id)
);
CREATE UNIQUE INDEX contact_sessions_canonical ON contact_sessions(chatbot_id, contact_id) WHERE verified = 1;
CREATE INDEX contact_sessions_contact ON contact_sessions(workspace_id, contact_id);

ALTER TABLE conversations ADD COLUMN contact_id TEXT REFERENCES contacts(id) ON DELETE SET NULL;
CREATE INDEX conversations_contact ON conversations(workspace_id, contact_id);

ALTER TABLE chatbots ADD COLUMN lead_form TEXT NOT NULL DEFAULT '{}';
ALTER TABLE chatbots ADD COLUMN visitor_context INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chatbots ADD COLUMN identity_secret TEXT;
ALTER TABLE chatbots ADD COLUMN identity_created_at TEXT;
