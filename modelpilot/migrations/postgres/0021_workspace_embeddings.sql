-- Opt-in provider embeddings per workspace (issue 22); see migrations/0021_workspace_embeddings.sql.
CREATE TABLE workspace_embeddings (
    workspace_id     TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    mode             TEXT NOT NULL CHECK (mode IN ('builtin', 'provider')),
    provider         TEXT,
    model            TEXT,
    identity         TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    reembed_state    TEXT CHECK (reembed_state IN ('running', 'done', 'failed')),
    reembed_error    TEXT,
    reembed_failures INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL
);

ALTER TABLE chunks ADD COLUMN embedding TEXT;
CREATE INDEX chunks_embedding ON chunks(workspace_id, embedding);

-- Re-embedding marks chunks with their new model (an UPDATE of chunks.embedding): only rows
-- whose words or bot changed are recounted in chunk_terms (migration 0012), not every row updated.
CREATE OR REPLACE FUNCTION chunk_terms_on_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chunk_terms_count(-1, array_agg(o.chatbot_id), array_agg(o.fts))
    FROM old_chunks o JOIN new_chunks n ON n.rowid = o.rowid
    WHERE o.fts IS DISTINCT FROM n.fts OR o.chatbot_id IS DISTINCT FROM n.chatbot_id;
    PERFORM chunk_terms_count(1, array_agg(n.chatbot_id), array_agg(n.fts))
    FROM old_chunks o JOIN new_chunks n ON n.rowid = o.rowid
    WHERE o.fts IS DISTINCT FROM n.fts OR o.chatbot_id IS DISTINCT FROM n.chatbot_id;
    RETURN NULL;
END $$;
