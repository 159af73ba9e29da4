-- Opt-in provider embeddings per workspace (issue 22). A workspace embeds with the built-in
-- model unless it has a row here saying otherwise. `identity` is what chunks.embedding holds
-- for vectors made with this setting (NULL: the instance's built-in model); `version` goes up
-- on every change, so a re-embedding job of an older setting stops (rag/workspace_embedding.py).
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

-- Which embedding made each chunk's vector (NULL: the built-in model). While a workspace is
-- re-embedded, vector search compares the question only with chunks of its current embedding.
ALTER TABLE chunks ADD COLUMN embedding TEXT;
CREATE INDEX chunks_embedding ON chunks(workspace_id, embedding);

-- Re-embedding replaces vectors in place and marks their chunks (an UPDATE of chunks.embedding,
-- in the same transaction): the bot's matrix in memory (migration 0020) must be read again.
CREATE TRIGGER chunks_new_generation_on_reembed AFTER UPDATE OF embedding ON chunks BEGIN
    INSERT INTO vector_generations (chatbot_id, workspace_id, generation)
    VALUES (new.chatbot_id, new.workspace_id, random())
    ON CONFLICT (chatbot_id) DO UPDATE SET generation = excluded.generation;
END;
