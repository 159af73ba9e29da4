"""CSV cells a spreadsheet opens safely: text it would run as a formula gets a leading quote."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text starting with = + - @ tab or CR is prefixed with ' (CSV injection); anything else as it is."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
