-- Accent-insensitive full text, and two hot paths made cheap.
--
-- 1. Keyword search asks, for each word of a question, in how many of the bot's chunks it occurs
-- (a word in COMMON_TERM_CHUNKS or more is left out: it weighs almost nothing and makes ranking
-- slow). SQLite answers from FTS5's postings; here counting matches meant scanning the bot's
-- chunks once per word (5 ms per word at 10k chunks, ten times that at 100k). chunk_terms keeps
-- the count per bot and lexeme, kept exact by statement-level triggers on chunks (every path
-- that adds or removes chunks, foreign-key cascades included), so the question costs one
-- primary-key lookup per word.

-- 0. Accents. SQLite's tokenizers fold them (unicode61 remove_diacritics 2: "café" finds "cafe"
-- and the other way round); Postgres's 'english' and 'simple' configurations do not. Two
-- configurations of our own put unaccent (a contrib extension, trusted since Postgres 13, so a
-- database owner may create it) before the same dictionaries, and the generated columns are
-- rebuilt with them (rag/store.py and chat/log_repo.py query with the same names).
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION modelpilot_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION modelpilot_english ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION modelpilot_simple (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION modelpilot_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

ALTER TABLE chunks DROP COLUMN fts;
ALTER TABLE chunks ADD COLUMN fts tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('modelpilot_english', text), 'A')
    || setweight(to_tsvector('modelpilot_english', coalesce(heading, '')), 'B')
    || setweight(to_tsvector('modelpilot_english', title), 'C')) STORED;
CREATE INDEX chunks_fts ON chunks USING gin (fts);

ALTER TABLE messages DROP COLUMN content_tsv;
ALTER TABLE messages ADD COLUMN content_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('modelpilot_simple', content)) STORED;
CREATE INDEX messages_fts ON messages USING gin (content_tsv);

CREATE TABLE chunk_terms (
    chatbot_id  TEXT NOT NULL,
    lexeme      TEXT NOT NULL,
    chunks      INTEGER NOT NULL,
    PRIMARY KEY (chatbot_id, lexeme)
);

CREATE FUNCTION chunk_terms_count(change INTEGER, rows_chatbot TEXT[], rows_fts TSVECTOR[]) RETURNS VOID
LANGUAGE plpgsql AS $$
BEGIN
    -- In key order, so two transactions counting overlapping words cannot deadlock.
    INSERT INTO chunk_terms AS ct (chatbot_id, lexeme, chunks)
    SELECT r.chatbot_id, t.lexeme, change * count(*)
    FROM unnest(rows_chatbot, rows_fts) AS r(chatbot_id, fts), unnest(tsvector_to_array(r.fts)) AS t(lexeme)
    GROUP BY r.chatbot_id, t.lexeme ORDER BY r.chatbot_id, t.lexeme
    ON CONFLICT (chatbot_id, lexeme) DO UPDATE SET chunks = ct.chunks + excluded.chunks;
    IF change < 0 THEN
        DELETE FROM chunk_terms ct USING (SELECT DISTINCT chatbot_id FROM unnest(rows_chatbot) AS b(chatbot_id)) b
        WHERE ct.chatbot_id = b.chatbot_id AND ct.chunks <= 0;
    END IF;
END $$;

CREATE FUNCTION chunk_terms_on_insert() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chunk_terms_count(1, array_agg(chatbot_id), array_agg(fts)) FROM new_chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION chunk_terms_on_delete() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chunk_terms_count(-1, array_agg(chatbot_id), array_agg(fts)) FROM old_chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION chunk_terms_on_update() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    PERFORM chunk_terms_count(-1, array_agg(chatbot_id), array_agg(fts)) FROM old_chunks;
    PERFORM chunk_terms_count(1, array_agg(chatbot_id), array_agg(fts)) FROM new_chunks;
    RETURN NULL;
END $$;

CREATE TRIGGER chunk_terms_insert AFTER INSERT ON chunks REFERENCING NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunk_terms_on_insert();
CREATE TRIGGER chunk_terms_delete AFTER DELETE ON chunks REFERENCING OLD TABLE AS old_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunk_terms_on_delete();
CREATE TRIGGER chunk_terms_update AFTER UPDATE ON chunks REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunk_terms_on_update();

INSERT INTO chunk_terms (chatbot_id, lexeme, chunks)
SELECT c.chatbot_id, t.lexeme, count(*) FROM chunks c, unnest(tsvector_to_array(c.fts)) AS t(lexeme)
GROUP BY c.chatbot_id, t.lexeme;

-- 2. A rate-limit check-and-count (core/ratelimit.DatabaseThrottle, core/counters_repo) in one
-- call: it locks only its own keys (a transaction-scoped advisory lock per key, taken in a fixed
-- order so two calls never deadlock), not the fleet's write lock every other write waits for, so
-- a widget message no longer queues behind chat saves on other nodes. Each statement inside
-- takes a fresh snapshot (a volatile function under READ COMMITTED), so after the locks it sees
-- every hit counted by whoever held them before. The same sliding windows as before: drop a
-- key's hits older than its window; when every key has fewer than its limit, count one hit on
-- each and return 0; else count nothing and return the seconds until the oldest hit of the
-- fullest key leaves its window (at least 1). The database's clock is the one every node reads.
CREATE FUNCTION rate_take(keys TEXT[], limits INTEGER[], seconds DOUBLE PRECISION[], count_hit BOOLEAN)
RETURNS INTEGER LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    key_name TEXT;
    t_now DOUBLE PRECISION;
    wait INTEGER := 0;
    hits BIGINT;
    oldest DOUBLE PRECISION;
BEGIN
    FOR key_name IN SELECT DISTINCT k FROM unnest(keys) AS k ORDER BY k LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('rate:' || key_name, 0));
    END LOOP;
    t_now := EXTRACT(EPOCH FROM clock_timestamp());
    FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
        DELETE FROM rate_hits WHERE key = keys[i] AND at <= t_now - seconds[i];
        SELECT count(*), min(at) INTO hits, oldest FROM rate_hits WHERE key = keys[i];
        IF hits >= limits[i] THEN
            wait := greatest(wait, 1, ceil(oldest + seconds[i] - t_now)::INTEGER);
        END IF;
    END LOOP;
    IF wait = 0 AND count_hit THEN
        INSERT INTO rate_hits (key, at, expires_at) SELECT k, t_now, t_now + s FROM unnest(keys, seconds) AS t(k, s);
    END IF;
    RETURN wait;
END $$;
