"""Request shapes for webhook endpoints."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Url = Annotated[str, Meta(max_length=2000)]
Events = Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=50)]
Description = Annotated[str, Meta(max_length=500)]


class WebhookBody(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    events: Events
    description: Description = ""
    enabled: bool = True


class WebhookPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    events: Events | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict:
        return {name: getattr(self, name) for name in self.__struct_fields__
                if getattr(self, name) is not msgspec.UNSET}
