"""An HTTP action as the rest of the code sees it: a typed, immutable row."""

from __future__ import annotations

import json
from typing import Any

import msgspec


class Action(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    workspace_id: str
    chatbot_id: str
    name: str
    label: str
    description: str
    parameters: dict
    method: str
    url: str
    headers_sealed: dict  # header name -> sealed value; never leaves the server
    body: Any = None
    timeout_s: float = 10.0
    max_response_bytes: int = 32_768
    confirm: bool = False
    verified_only: bool = False
    enabled: bool = True
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: dict) -> Action:
        return cls(**{**row, "parameters": json.loads(row["parameters"]),
                      "headers_sealed": json.loads(row["headers_sealed"]),
                      "body": None if row["body"] is None else json.loads(row["body"]),
                      "timeout_s": float(row["timeout_s"]), "confirm": bool(row["confirm"]),
                      "verified_only": bool(row["verified_only"]), "enabled": bool(row["enabled"])})

    @property
    def status_label(self) -> str:
        return self.label or f"Using {self.name}…"

    def public(self) -> dict:
        """The API's shape: header names only, never their values."""
        fields = msgspec.structs.asdict(self)
        del fields["workspace_id"], fields["headers_sealed"]
        fields["label"] = self.status_label
        fields["headers"] = [{"name": name, "set": True} for name in sorted(self.headers_sealed)]
        return fields


ACTION_FIELDS = tuple(field.name for field in msgspec.structs.fields(Action))
