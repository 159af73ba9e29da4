-- Test sets (issue 21, part 4). A set belongs to one bot: a name, its cases as one JSON list
-- ({question, expect_source?, expect_page?, expect_text?: [...]}, at most 200) and whether it runs
-- after every knowledge change. A run keeps its figures (pass rate, Recall@k at the bot's top_k
-- at the time) and every case's result as JSON, so the history reads one row per run.

CREATE TABLE eval_sets (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id    TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    cases         TEXT NOT NULL DEFAULT '[]',
    auto_run      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX eval_sets_bot ON eval_sets(workspace_id, chatbot_id, created_at);

CREATE TABLE eval_runs (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id    TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    eval_set_id   TEXT NOT NULL REFERENCES eval_sets(id) ON DELETE CASCADE,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    top_k         INTEGER NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    done          INTEGER NOT NULL DEFAULT 0,
    passed        INTEGER NOT NULL DEFAULT 0,
    with_source   INTEGER NOT NULL DEFAULT 0,
    found         INTEGER NOT NULL DEFAULT 0,
    results       TEXT NOT NULL DEFAULT '[]',
    error         TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT
);
CREATE INDEX eval_runs_set ON eval_runs(workspace_id, eval_set_id, created_at);
