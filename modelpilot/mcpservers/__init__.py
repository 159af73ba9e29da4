"""Remote MCP servers (Streamable HTTP) a workspace connects; their tools, listed live and
called on a bot's behalf through the SSRF-guarded transport."""
