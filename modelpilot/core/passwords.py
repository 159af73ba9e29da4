"""Password hashing with argon2id, off the event loop, with bounded concurrency."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from modelpilot.core.errors import invalid
from modelpilot.core.common_passwords import COMMON_PASSWORDS

# OWASP minimum for argon2id: m=19 MiB, t=2, p=1. Each hash holds 19 MiB for ~30 ms, so at
# most two run at once: a login flood cannot take the memory or both cores.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
_LIMITER = anyio.CapacityLimiter(2)
MIN_LENGTH = 8
MAX_LENGTH = 256
# Verified against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = HASHER.hash("modelpilot-dummy-password")


def check_password_policy(password: str, email: str = "", field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise invalid(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise invalid(field, f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (email and lowered == email.split("@")[0].lower()):
        raise invalid(field, "is too common or too easy to guess; choose another")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password, limiter=_LIMITER)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when it matches. With stored_hash None, does the same work and returns False."""
    return await anyio.to_thread.run_sync(_verify, stored_hash, password, limiter=_LIMITER)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
