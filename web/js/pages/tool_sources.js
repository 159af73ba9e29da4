// Where a bot's tools come from, read the same way by the Actions page, the bot editor's tools
// picker and the MCP servers page: every page of a cursor list, and an MCP server's tools
// fetched live, where an unreachable server is a state to show, not an error to throw.

import { ApiError, get } from "../api.js";

export async function listAll(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const body = await get(path, { cursor });
    if (Array.isArray(body)) return body;
    items.push(...(body.items || []));
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const actionsPath = (ws, bot) => `/workspaces/${ws}/chatbots/${bot}/actions`;
export const serversPath = (ws) => `/workspaces/${ws}/mcp-servers`;

// { tools } or { unavailable: message } (502 mcp_unavailable, or the server could not be reached).
export async function serverTools(ws, serverId) {
  try {
    const body = await get(`${serversPath(ws)}/${serverId}/tools`);
    return { tools: body.items || [] };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 502 || error.status === 504 || error.code === "mcp_unavailable")) {
      return { unavailable: error.message || "The server did not answer." };
    }
    throw error;
  }
}
