"""Small validators for values msgspec's types cannot express; each names the field."""

from __future__ import annotations

import re

from modelpilot.core.errors import invalid

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def clean_email(value: str, field: str = "email") -> str:
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise invalid(field, "is not a valid email address")
    return email.lower()


def clean_text(value: str, field: str, *, min_length: int = 1, max_length: int = 200) -> str:
    text = value.strip()
    if len(text) < min_length:
        raise invalid(field, "must not be empty" if min_length == 1 else f"must be at least {min_length} characters")
    if len(text) > max_length:
        raise invalid(field, f"must be at most {max_length} characters")
    return text
