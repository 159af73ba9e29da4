-- Widget: messages each bot accepted from its widget per UTC day, for the daily cap.
-- (Visitor addresses are not stored here at all: conversations keep only a salted hash.)

CREATE TABLE widget_daily_usage (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id      TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    day             TEXT NOT NULL,
    messages        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chatbot_id, day)
);
CREATE INDEX widget_daily_usage_workspace ON widget_daily_usage(workspace_id, day);
