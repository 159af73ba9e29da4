"""Random secrets and their stored form: only a SHA-256 of a token ever reaches the database."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "mp_"


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random token; 32 bytes is 256 bits, well above the 128 required."""
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
