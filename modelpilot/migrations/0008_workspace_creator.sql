-- Who created each workspace, so the number one user may create can be limited
-- (MODELPILOT_MAX_WORKSPACES_PER_USER). Existing workspaces take it from their audit entry.

ALTER TABLE workspaces ADD COLUMN created_by TEXT REFERENCES users(id) ON DELETE SET NULL;

UPDATE workspaces SET created_by = (
    SELECT a.actor_user_id FROM audit_log a
    WHERE a.workspace_id = workspaces.id AND a.action = 'workspace.created'
      AND a.actor_user_id IN (SELECT id FROM users)
    ORDER BY a.created_at LIMIT 1
);

CREATE INDEX workspaces_created_by ON workspaces(created_by);
