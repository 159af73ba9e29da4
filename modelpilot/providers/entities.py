"""A workspace's connection to one LLM provider, as the code passes it around."""

from __future__ import annotations

import msgspec


class ProviderKey(msgspec.Struct, frozen=True, kw_only=True):
    provider: str
    key_mask: str
    api_base: str | None
    created_at: str
    updated_at: str
    sealed_key: str = ""  # empty when read for display; never returned by the API

    def public(self) -> dict:
        fields = msgspec.structs.asdict(self)
        del fields["sealed_key"]
        return fields
