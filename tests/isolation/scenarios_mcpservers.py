"""Isolation scenarios for MCP servers: the servers of a workspace and their live tool lists.

A's server points at localhost with a sealed header: the isolation server does not allow
private addresses, so nothing is contacted (its tool list would be a 502). B must see neither
the server, its URL nor its header names, and cannot list, change or delete it.
"""

from __future__ import annotations

from tests.support import Api

SERVER = "/api/v1/workspaces/{ws}/mcp-servers/{mcp_server}"


def create_resources(a: Api, ids: dict) -> None:
    server = a.ok("POST", f"/api/v1/workspaces/{a.ws}/mcp-servers", 201,
                  json={"name": "A's tools", "url": "http://localhost:9/a-secret-mcp-path",
                        "headers": {"X-A-Only-Header": "a-secret-value"}})
    ids["mcp_server"] = server["id"]


PUBLIC: dict[str, str] = {}

SCENARIOS = {
    "GET /api/v1/workspaces/{ws}/mcp-servers": {},
    "POST /api/v1/workspaces/{ws}/mcp-servers": {"json": {"name": "B's tools", "url": "https://tools.example.com/mcp"}},
    f"GET {SERVER}": {},
    f"PATCH {SERVER}": {"json": {"name": "changed by B"}},
    f"DELETE {SERVER}": {},
    f"GET {SERVER}/tools": {},
}
