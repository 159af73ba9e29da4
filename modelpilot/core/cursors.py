"""Opaque cursors of the paginated lists: the sort key of the last item shown, joined by "|" and
base64url-encoded. A cursor that does not decode to the expected parts is a 400 naming `cursor`."""

from __future__ import annotations

import base64
import binascii

from modelpilot.core.errors import invalid


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int = 2) -> tuple[str, ...]:
    """The `parts` non-empty pieces of a cursor made by encode_cursor (the last may hold "|")."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid("cursor", "is not a cursor from this list") from None
    pieces = tuple(raw.split("|", parts - 1))
    if len(pieces) != parts or not all(pieces):
        raise invalid("cursor", "is not a cursor from this list")
    return pieces
