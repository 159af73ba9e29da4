"""MCP server routes (contract: /work/contracts/actions.md, "MCP servers"): the servers of a
workspace, and each one's tools listed live."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.params import Parameter

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.mcpservers import service
from modelpilot.mcpservers.schemas import McpServerBody, McpServerPatch
from modelpilot.settings import Settings

SERVERS = "/api/v1/workspaces/{ws:str}/mcp-servers"
SERVER = SERVERS + "/{mcp_server:str}"
Cursor = Annotated[str | None, Parameter(max_length=300)]
Limit = Annotated[int, Parameter(ge=1, le=100)]


@get(SERVERS, tags=["mcp-servers"])
async def list_mcp_servers(db: Database, access: WorkspaceAccess, cursor: Cursor = None, limit: Limit = 50) -> dict:
    return await service.list_servers(db, access, cursor, limit)


@post(SERVERS, tags=["mcp-servers"], status_code=201)
async def create_mcp_server(db: Database, settings: Settings, access: WorkspaceAccess, data: McpServerBody) -> dict:
    return await service.create_server(db, settings, access, data.name, data.url, data.headers)


@get(SERVER, tags=["mcp-servers"])
async def get_mcp_server(db: Database, access: WorkspaceAccess, mcp_server: str) -> dict:
    return await service.get_server(db, access, mcp_server)


@patch(SERVER, tags=["mcp-servers"])
async def update_mcp_server(db: Database, settings: Settings, access: WorkspaceAccess, mcp_server: str,
                            data: McpServerPatch) -> dict:
    return await service.update_server(db, settings, access, mcp_server, data.changes())


@delete(SERVER, tags=["mcp-servers"], status_code=204)
async def delete_mcp_server(db: Database, access: WorkspaceAccess, mcp_server: str) -> None:
    await service.delete_server(db, access, mcp_server)


@get(SERVER + "/tools", tags=["mcp-servers"])
async def list_mcp_server_tools(db: Database, settings: Settings, access: WorkspaceAccess, mcp_server: str) -> dict:
    """The server's tools, asked of it now; 502 mcp_unavailable when it cannot answer."""
    return await service.list_tools_live(db, settings, access, mcp_server)


ROUTES = [list_mcp_servers, create_mcp_server, get_mcp_server, update_mcp_server, delete_mcp_server,
          list_mcp_server_tools]
