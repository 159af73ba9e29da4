"""Request shapes for HTTP actions: bounds live here so bad input is a 400 naming the field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Name = Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_-]{1,64}$",
                           description="must be 1-64 letters, digits, '_' or '-' (the tool name the model sees)")]
Label = Annotated[str, Meta(max_length=80)]
Description = Annotated[str, Meta(max_length=2000)]
Url = Annotated[str, Meta(min_length=1, max_length=2000)]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
HeaderValue = Annotated[str, Meta(max_length=4000)]
Headers = Annotated[dict[Annotated[str, Meta(min_length=1, max_length=100)], HeaderValue], Meta(max_length=20)]
PatchHeaders = Annotated[dict[Annotated[str, Meta(min_length=1, max_length=100)], HeaderValue | None],
                         Meta(max_length=20)]
Timeout = Annotated[float, Meta(ge=1, le=30)]
MaxBytes = Annotated[int, Meta(ge=1024, le=262_144)]


class CreateActionBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    description: Description
    url: Url
    parameters: dict[str, Any] = msgspec.field(default_factory=lambda: {"type": "object", "properties": {}})
    method: Method = "GET"
    label: Label = ""
    headers: Headers = msgspec.field(default_factory=dict)
    body: Any = None
    timeout_s: Timeout = 10.0
    max_response_bytes: MaxBytes = 32_768
    confirm: bool = False
    verified_only: bool = False
    enabled: bool = True


class UpdateActionBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    url: Url | UnsetType = UNSET
    parameters: dict[str, Any] | UnsetType = UNSET
    method: Method | UnsetType = UNSET
    label: Label | UnsetType = UNSET
    # A null value keeps the stored one; a name left out is removed.
    headers: PatchHeaders | UnsetType = UNSET
    body: Any = UNSET
    timeout_s: Timeout | UnsetType = UNSET
    max_response_bytes: MaxBytes | UnsetType = UNSET
    confirm: bool | UnsetType = UNSET
    verified_only: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class TestActionBody(msgspec.Struct, forbid_unknown_fields=True):
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)
    # Sample claims for {visitor.<claim>} placeholders (a test has no visitor).
    visitor: dict[str, Any] = msgspec.field(default_factory=dict)
