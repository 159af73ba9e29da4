-- Chatbots gain a slug: the name an OpenAI-compatible client or an MCP client uses for a bot
-- (`model` in /v1/chat/completions, `chatbot` in the MCP tools). Unique in its workspace,
-- [a-z0-9-]{1,64}. Existing bots get one derived from their name here (the same rule as
-- chatbots/slugs.py for ASCII names: lower case, every run of other characters one '-', no '-'
-- at either end, at most 64 characters, 'bot' when nothing is left), the second of a name
-- `name-2`, the third `name-3`, ... in creation order. Postgres does the same in its own dialect.
ALTER TABLE chatbots ADD COLUMN slug TEXT NOT NULL DEFAULT '';

CREATE TEMP TABLE slug_walk AS
WITH RECURSIVE walk(id, name, i, out) AS (
    SELECT id, lower(name), 1, '' FROM chatbots
    UNION ALL
    SELECT id, name, i + 1,
           out || CASE WHEN substr(name, i, 1) GLOB '[a-z0-9]' THEN substr(name, i, 1) ELSE '-' END
    FROM walk WHERE i <= length(name)
)
SELECT id, out FROM walk WHERE i = length(name) + 1;

-- Runs of '-' become one (names are at most 100 characters: seven halvings are enough).
UPDATE slug_walk SET out = replace(replace(replace(replace(replace(replace(replace(
    out, '--', '-'), '--', '-'), '--', '-'), '--', '-'), '--', '-'), '--', '-'), '--', '-');
UPDATE slug_walk SET out = trim(substr(trim(out, '-'), 1, 64), '-');
UPDATE slug_walk SET out = 'bot' WHERE out = '';

UPDATE chatbots SET slug = (
    SELECT CASE WHEN ranked.n = 1 THEN ranked.out
                ELSE trim(substr(ranked.out, 1, 60), '-') || '-' || ranked.n END
    FROM (SELECT b.id, w.out,
                 ROW_NUMBER() OVER (PARTITION BY b.workspace_id, w.out ORDER BY b.created_at, b.id) AS n
          FROM chatbots b JOIN slug_walk w ON w.id = b.id) AS ranked
    WHERE ranked.id = chatbots.id);

-- A numbered slug can meet a name that already ends in that number ("FAQ", "FAQ", "FAQ 2"):
-- the later one takes the end of its id instead, which no other bot shares.
UPDATE chatbots SET slug = trim(substr(slug, 1, 55), '-') || '-' || lower(substr(id, -8))
WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY workspace_id, slug
                                                           ORDER BY created_at, id) AS n
                             FROM chatbots) AS dup WHERE dup.n > 1);

DROP TABLE slug_walk;
CREATE UNIQUE INDEX chatbots_workspace_slug ON chatbots (workspace_id, slug);
