-- SQLite only (migrations/0020_vector_generations.sql: the generation its in-memory vector scan is
-- checked against). Postgres searches its HNSW index; this file keeps the two migration
-- histories at the same version, which `modelpilot copy-db` requires.
SELECT 1;
