-- Chatbots gain a slug (see migrations/0016_chatbot_slug.sql for the rule): unique in its
-- workspace, [a-z0-9-]{1,64}, derived here from each existing bot's name and numbered -2, -3, ...
-- in creation order.
ALTER TABLE chatbots ADD COLUMN slug TEXT NOT NULL DEFAULT '';

WITH based AS (
    SELECT id, workspace_id, created_at,
           COALESCE(NULLIF(btrim(left(btrim(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), '-'), 64), '-'), ''),
                    'bot') AS base
    FROM chatbots
), ranked AS (
    SELECT id, base, ROW_NUMBER() OVER (PARTITION BY workspace_id, base ORDER BY created_at, id) AS n FROM based
)
UPDATE chatbots SET slug = CASE WHEN ranked.n = 1 THEN ranked.base
                                ELSE btrim(left(ranked.base, 60), '-') || '-' || ranked.n END
FROM ranked WHERE ranked.id = chatbots.id;

-- A numbered slug can meet a name that already ends in that number: the later one takes the end
-- of its id instead, which no other bot shares.
UPDATE chatbots SET slug = btrim(left(slug, 55), '-') || '-' || lower(right(id, 8))
WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY workspace_id, slug
                                                           ORDER BY created_at, id) AS n
                             FROM chatbots) AS dup WHERE dup.n > 1);

CREATE UNIQUE INDEX chatbots_workspace_slug ON chatbots (workspace_id, slug);
