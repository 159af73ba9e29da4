-- Knowledge: documents, their pages (for re-crawls), chunks, vectors (sqlite-vec), full text
-- (FTS5), the durable job queue and the embedding index description.

CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    chatbot_id      TEXT NOT NULL REFERENCES chatbots(id) ON DELETE CASCADE,
    source_type     TEXT NOT NULL CHECK (source_type IN ('file', 'url', 'text', 'faq')),
    title           TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',      -- file name or URL
    content_type    TEXT NOT NULL DEFAULT '',      -- sniffed: pdf, docx, html, md, csv, txt
    mode            TEXT CHECK (mode IN ('page', 'sitemap', 'site')),
    max_pages       INTEGER,
    refresh_hours   INTEGER,
    body            BLOB,                          -- uploaded bytes / text / FAQ JSON, kept for reindex
    size_bytes      INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'processing', 'indexed', 'error')),
    progress        REAL NOT NULL DEFAULT 0,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    generation      INTEGER NOT NULL DEFAULT 1,    -- bumped by reindex: a stale job's result is dropped
    embed_model     TEXT,
    embed_dim       INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    indexed_at      TEXT,
    next_refresh_at TEXT
);
CREATE INDEX documents_bot ON documents(workspace_id, chatbot_id, created_at);
CREATE INDEX documents_refresh ON documents(next_refresh_at) WHERE next_refresh_at IS NOT NULL;

-- One row per fetched page of a URL document: lets a re-crawl skip pages whose text is unchanged.
CREATE TABLE document_pages (
    document_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    workspace_id    TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL,
    fetched_at      TEXT NOT NULL,
    PRIMARY KEY (document_id, url)
);

-- The integer rowid is shared with chunk_vectors and chunk_fts.
CREATE TABLE chunks (
    rowid           INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    workspace_id    TEXT NOT NULL,
    chatbot_id      TEXT NOT NULL,
    document_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal         INTEGER NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'faq')),
    title           TEXT NOT NULL DEFAULT '',
    url             TEXT,
    page            INTEGER,
    heading         TEXT,
    text            TEXT NOT NULL,
    answer          TEXT,
    token_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chunks_document ON chunks(document_id, url);
CREATE INDEX chunks_bot ON chunks(workspace_id, chatbot_id);

-- Partitioned by chatbot: a KNN query reads only that bot's vectors.
CREATE VIRTUAL TABLE chunk_vectors USING vec0(
    embedding float[384] distance_metric=cosine,
    chatbot_id text partition key,
    chunk_size=64
);
-- sqlite-vec finds a partition's chunks with `partition00 = ?` on this shadow table and ships no
-- index for it: without one, every search scans the chunk list of the whole instance.
CREATE INDEX chunk_vectors_chunks_partition ON chunk_vectors_chunks(partition00);

-- Full text, contentless (the text lives in chunks). Every token is written prefixed with its bot's
-- tag (rag/store.py keyed_text), so a term's posting list holds only that bot's chunks: a keyword
-- query reads one bot's postings however large the rest of the instance is, and BM25's term
-- statistics are the bot's own.
CREATE VIRTUAL TABLE chunk_fts USING fts5(
    text, title, heading,
    content='', contentless_delete=1,
    tokenize='porter unicode61 remove_diacritics 2'
);

-- However chunks go (document delete, bot delete by cascade, workspace delete), their vectors
-- and full-text rows go with them in the same transaction.
CREATE TRIGGER chunks_after_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunk_fts WHERE rowid = old.rowid;
    DELETE FROM chunk_vectors WHERE rowid = old.rowid;
END;

-- The durable job queue behind the scheduler's worker.
CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    ref_id          TEXT NOT NULL,                 -- e.g. the document id
    payload         TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'done', 'error')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_after       TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, run_after);
CREATE INDEX jobs_ref ON jobs(ref_id);

-- Which model made the vectors in chunk_vectors; a different model means re-embedding all.
CREATE TABLE embedding_index (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    model           TEXT NOT NULL,
    dim             INTEGER NOT NULL,
    updated_at      TEXT NOT NULL
);
