-- Postgres only (migrations/postgres/0017_halfvec_index.sql: its HNSW index moves to half-precision
-- copies of the vectors). SQLite's vec0 table is unchanged; this file keeps the two migration
-- histories at the same version, which `modelpilot copy-db` requires.
SELECT 1;
