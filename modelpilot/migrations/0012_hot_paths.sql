-- Postgres only (migrations/postgres/0012_hot_paths.sql: per-bot word counts for keyword search,
-- and a rate-limit check-and-count that locks its own keys instead of the fleet's write lock).
-- SQLite needs neither: FTS5 counts a word's chunks from its own postings (rag/store.py), and one
-- node counts throttles in memory (core/ratelimit.py). This step changes nothing here; it keeps
-- both folders at the same numbers.
SELECT 1;
