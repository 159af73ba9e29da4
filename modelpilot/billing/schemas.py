"""Request bodies of the billing routes."""

from __future__ import annotations

from typing import Annotated

import msgspec


class CheckoutBody(msgspec.Struct, forbid_unknown_fields=True):
    plan: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
