"""Request bodies of the insights routes."""

from __future__ import annotations

import msgspec


class ImproveBody(msgspec.Struct, forbid_unknown_fields=True):
    answer: str  # the right answer to the visitor's question, as the bot should give it
