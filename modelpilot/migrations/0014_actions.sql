-- Actions and tools (issue 19). A bot's tools are picked in chatbots.tools (JSON list of
-- {"type": "action"|"mcp"|"builtin", ...}); an HTTP action belongs to one bot, its header values
-- sealed like provider keys (one sealed value per header name, JSON). Each tool call a turn made
-- is a row of tool_calls, written in the turn's own transaction (the conversation log and the
-- per-tool analytics read it); a call waiting for the visitor's approval keeps what is needed to
-- go on in tool_confirmations until it is answered or expires.

ALTER TABLE chatbots ADD COLUMN tools TEXT NOT NULL DEFAULT '[]';
ALTER TABLE chatbots ADD COLUMN max_tool_rounds INTEGER NOT NULL DEFAULT 3;

CREATE TABLE actions (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id          TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    label               TEXT NOT NULL DEFAULT '',
    description         TEXT NOT NULL DEFAULT '',
    parameters          TEXT NOT NULL DEFAULT '{}',
    method              TEXT NOT NULL,
    url                 TEXT NOT NULL,
    headers_sealed      TEXT NOT NULL DEFAULT '{}',
    body                TEXT,
    timeout_s           REAL NOT NULL DEFAULT 10,
    max_response_bytes  INTEGER NOT NULL DEFAULT 32768,
    confirm             INTEGER NOT NULL DEFAULT 0,
    verified_only       INTEGER NOT NULL DEFAULT 0,
    enabled             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (chatbot_id, name)
);
CREATE INDEX actions_workspace ON actions(workspace_id, chatbot_id);

CREATE TABLE tool_calls (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id        TEXT NOT NULL,
    conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id        TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    call_id           TEXT NOT NULL,
    position          INTEGER NOT NULL DEFAULT 0,
    type              TEXT NOT NULL,
    name              TEXT NOT NULL,
    arguments         TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL,
    latency_ms        INTEGER,
    response_excerpt  TEXT,
    error             TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX tool_calls_message ON tool_calls(message_id, position);
CREATE INDEX tool_calls_conversation ON tool_calls(conversation_id);
CREATE INDEX tool_calls_workspace ON tool_calls(workspace_id, created_at);
CREATE INDEX tool_calls_call ON tool_calls(workspace_id, call_id);

CREATE TABLE tool_confirmations (
    call_id       TEXT NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id    TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    channel       TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    state         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (chatbot_id, channel, session_id, call_id)
);
CREATE INDEX tool_confirmations_expiry ON tool_confirmations(workspace_id, expires_at);
