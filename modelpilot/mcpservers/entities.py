"""An MCP server as the code passes it around, and what its tools look like to the chat."""

from __future__ import annotations

import json
from dataclasses import dataclass

import msgspec


class McpServer(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    name: str
    url: str
    header_names: tuple[str, ...]
    headers_sealed: str | None  # one sealed JSON object {name: value}; never returned by the API
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row) -> "McpServer":
        return cls(id=row["id"], workspace_id=row["workspace_id"], name=row["name"], url=row["url"],
                   header_names=tuple(json.loads(row["header_names"] or "[]")),
                   headers_sealed=row["headers_sealed"], created_at=row["created_at"],
                   updated_at=row["updated_at"])

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "url": self.url,
                "headers": [{"name": name, "set": True} for name in self.header_names],
                "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass(frozen=True)
class RemoteTool:
    """One tool of a remote server, as the model will be offered it."""
    server_id: str
    name: str
    description: str
    input_schema: dict


@dataclass(frozen=True)
class RemoteResult:
    """What one call gave: `text` is for the model (capped, non-text parts summarised); `error` a
    short sentence when `ok` is False (the server's own text for a tool that reported an error)."""
    ok: bool
    text: str
    error: str | None
    latency_ms: int


@dataclass(frozen=True)
class ListedTool:
    """A tool as the server listed it (the dashboard's picker shows these)."""
    name: str
    description: str
    input_schema: dict
    read_only: bool | None

    def public(self) -> dict:
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema,
                "read_only": self.read_only}
