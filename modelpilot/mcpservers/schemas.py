"""Request shapes for MCP servers. Header values are checked in the service (names, sizes,
reserved names), where each problem can name its header."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Name = Annotated[str, Meta(max_length=100)]
Url = Annotated[str, Meta(max_length=2000)]
HeaderValue = Annotated[str, Meta(max_length=8000)]
Headers = Annotated[dict[Annotated[str, Meta(max_length=200)], HeaderValue | None], Meta(max_length=50)]


class McpServerBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    url: Url
    headers: Headers = {}


class McpServerPatch(msgspec.Struct, forbid_unknown_fields=True):
    """headers, when given, is the whole new set: a null value keeps that header's stored value,
    a name left out is removed."""
    name: Name | msgspec.UnsetType = msgspec.UNSET
    url: Url | msgspec.UnsetType = msgspec.UNSET
    headers: Headers | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict:
        return {name: getattr(self, name) for name in self.__struct_fields__
                if getattr(self, name) is not msgspec.UNSET}
