-- Remote MCP servers (Streamable HTTP) a workspace connects, whose tools its bots may use.
-- Header values (an API key, a bearer token) are sealed like provider keys, as one JSON object
-- under the server's own associated data; their names are kept in the clear for the dashboard.
-- A bot names a server's tool by the server's id (chatbots.tools); deleting a server leaves
-- those picks in place, and the chat reports them as unavailable.

CREATE TABLE mcp_servers (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    url              TEXT NOT NULL,
    header_names     TEXT NOT NULL DEFAULT '[]',
    headers_sealed   TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX mcp_servers_ws_name ON mcp_servers(workspace_id, name);
CREATE INDEX mcp_servers_ws_created ON mcp_servers(workspace_id, created_at, id);
