-- Which state of a bot's vectors a search sees (rag/vector_cache.py). A large bot's vectors are
-- scanned from a matrix in memory, checked against this row on every search: any chunk written
-- or deleted (by hand, by a re-crawl, by a cascade from its document, bot or workspace, by a model
-- change) draws a new random generation in the same transaction. Random, not counted: a cache
-- can never match a database restored from a backup, or another file at the same path.
-- No row (a bot untouched since this migration, or deleted) reads as generation 0. A deleted
-- bot's row goes with it (workspace erasure leaves nothing of a workspace behind).
CREATE TABLE vector_generations (
    chatbot_id    TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL,
    generation    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER chunks_new_generation_on_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO vector_generations (chatbot_id, workspace_id, generation)
    VALUES (new.chatbot_id, new.workspace_id, random())
    ON CONFLICT (chatbot_id) DO UPDATE SET generation = excluded.generation;
END;

CREATE TRIGGER chunks_new_generation_on_delete AFTER DELETE ON chunks
WHEN EXISTS (SELECT 1 FROM chatbots WHERE id = old.chatbot_id) BEGIN
    INSERT INTO vector_generations (chatbot_id, workspace_id, generation)
    VALUES (old.chatbot_id, old.workspace_id, random())
    ON CONFLICT (chatbot_id) DO UPDATE SET generation = excluded.generation;
END;

CREATE TRIGGER chatbots_drop_vector_generation AFTER DELETE ON chatbots BEGIN
    DELETE FROM vector_generations WHERE chatbot_id = old.id;
END;
