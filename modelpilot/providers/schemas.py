"""Request shapes for providers."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class ProviderBody(msgspec.Struct, forbid_unknown_fields=True):
    api_key: Annotated[str, Meta(max_length=1000)] = ""
    api_base: Annotated[str, Meta(max_length=500)] | None = None


class ProviderTestBody(msgspec.Struct, forbid_unknown_fields=True):
    model: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
