"""The process's key ring for provider keys, and re-sealing every key under a new one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from modelpilot.core.crypto import (
    KEY_FILE_NAME, CryptoError, KeyRing, load_key_ring, new_key_text, parse_ring, write_key_file,
)
from modelpilot.core.database import connect_sync_for
from modelpilot.core.db import transaction_sync
from modelpilot.providers import repo
from modelpilot.settings import Settings

_rings: dict[tuple[str, str], KeyRing] = {}


def key_ring(settings: Settings, *, reload: bool = False) -> KeyRing:
    """Cached per (secret, data dir); reload picks up a rotation done by another process."""
    cache_key = (settings.secret_key, str(settings.data_dir))
    if reload or cache_key not in _rings:
        _rings[cache_key] = load_key_ring(settings.secret_key, settings.data_dir)
    return _rings[cache_key]


def seal_api_key(settings: Settings, workspace_id: str, provider: str, api_key: str) -> str:
    return key_ring(settings).seal(api_key, aad=f"{workspace_id}/{provider}")


def open_api_key(settings: Settings, workspace_id: str, provider: str, sealed: str) -> str:
    aad = f"{workspace_id}/{provider}"
    try:
        return key_ring(settings).open(sealed, aad=aad)
    except CryptoError:
        return key_ring(settings, reload=True).open(sealed, aad=aad)


class KeyRingMismatch(RuntimeError):
    """The stored provider keys were sealed with a secret key this node does not have."""


def check_key_ring(settings: Settings) -> None:
    """Refuse to start when a stored provider key does not open with this node's key ring: every
    node (and every restart) must run with the secret key that sealed them, or each chat would
    fail later, one at a time, with a confusing provider error. One row is enough to tell."""
    conn = connect_sync_for(settings)
    try:
        row = repo.sample_sealed_key_sync(conn)
    finally:
        conn.close()
    if row is None:
        return
    try:
        key_ring(settings, reload=True).open(row["sealed_key"], aad=f"{row['workspace_id']}/{row['provider']}")
    except CryptoError as exc:
        source = "MODELPILOT_SECRET_KEY" if settings.secret_key.strip() else \
            f"the key file {Path(settings.data_dir) / KEY_FILE_NAME} (MODELPILOT_SECRET_KEY is not set)"
        raise KeyRingMismatch(
            f"{source} differs from the secret key that sealed the stored provider keys ({exc}); "
            "start every node with the same MODELPILOT_SECRET_KEY") from None


# Other sealed values re-sealed in the same transaction: fn(conn, ring) -> how many. Passed in by
# the caller (the CLI), since the domains that own them import this module, not the reverse.
Resealer = Callable[[Any, KeyRing], int]


def rotate_keys(settings: Settings, new_key: str | None = None,
                also: tuple[Resealer, ...] = ()) -> tuple[str, str, int]:
    """Seal every provider key (and what `also` re-seals) with a new key. Returns (new key, its
    id, values re-sealed).

    With a key file, the new key is written first (the old one kept below it) so a crash
    between the steps loses nothing; once all rows are re-sealed the old key is dropped.
    With MODELPILOT_SECRET_KEY, the caller must then set the new key there (printed by the CLI).
    """
    old_ring = load_key_ring(settings.secret_key, settings.data_dir)
    new_text = new_key or new_key_text()
    new_ring = KeyRing(parse_ring(new_text).keys + old_ring.keys)
    key_file = Path(settings.data_dir) / KEY_FILE_NAME
    uses_file = not settings.secret_key.strip()
    if uses_file:
        old_lines = [line.strip() for line in key_file.read_text().splitlines() if line.strip()]
        write_key_file(key_file, [new_text, *old_lines])
    count = _reseal_all(settings, new_ring, also)
    if uses_file:
        write_key_file(key_file, [new_text])
    _rings.clear()
    return new_text, new_ring.current_id, count


def _reseal_all(settings: Settings, ring: KeyRing, also: tuple[Resealer, ...] = ()) -> int:
    conn = connect_sync_for(settings)
    try:
        with transaction_sync(conn):
            rows = repo.all_sealed_keys_sync(conn)
            for row in rows:
                aad = f"{row['workspace_id']}/{row['provider']}"
                resealed = ring.seal(ring.open(row["sealed_key"], aad=aad), aad=aad)
                repo.set_sealed_key_sync(conn, row["workspace_id"], row["provider"], resealed)
            return len(rows) + sum(reseal(conn, ring) for reseal in also)
    finally:
        conn.close()
