"""What a contact's values may look like: an e-mail address, a phone number, a custom field."""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}$")
PHONE = re.compile(r"^\+?[0-9()\-. ]+$")
MAX_EMAIL = 254
MAX_TEXT = 500
MAX_NAME = 200
MAX_CUSTOM_FIELDS = 30


def email_problem(value: str) -> str | None:
    """None when `value` looks like an address (it will be stored lower-cased)."""
    if len(value) > MAX_EMAIL or not EMAIL.match(value):
        return "must look like an e-mail address, e.g. name@example.com"
    return None


def phone_problem(value: str) -> str | None:
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE.match(value) or not 6 <= digits <= 20:
        return "must be a phone number of 6-20 digits (+, spaces, dots, dashes and brackets allowed)"
    return None


def text_problem(value: str, limit: int = MAX_TEXT) -> str | None:
    if len(value) > limit:
        return f"must be at most {limit} characters"
    if not value.isprintable():
        return "must not contain control characters"
    return None
