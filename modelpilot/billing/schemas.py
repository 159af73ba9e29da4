"""Request bodies of the billing routes."""

from __future__ import annotations

from typing import Annotated

import msgspec


class CheckoutBody(msgspec.Struct, forbid_unknown_fields=True):
    # Optional here so that a missing plan is reported by name ("plan: is required") by the service.
    plan: Annotated[str, msgspec.Meta(max_length=100)] = ""
