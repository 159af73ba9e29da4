"""Sealing secrets at rest with AES-256-GCM, under a key ring that can be rotated.

A sealed value reads `v1.<key id>.<base64url(nonce + ciphertext)>`. The key id (first 8 hex digits
of the key's SHA-256) says which key opens it, so after a rotation old values still open until
they are re-sealed. The ring comes from MODELPILOT_SECRET_KEY (base64 keys, comma-separated,
the first one seals) or, if that is unset, from DATA_DIR/secret.key (one key per line, mode 0600),
generated on first use. Callers pass associated data (e.g. workspace and provider) so a sealed
value copied to another row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from modelpilot.core.private import private_dir

KEY_FILE_NAME = "secret.key"
VERSION = "v1"


class CryptoError(Exception):
    """A key that cannot be used, or a sealed value that does not open."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("a secret key must be base64 text") from None
    if len(key) != 32:
        raise CryptoError("a secret key must be 32 bytes (44 characters of base64)")
    return key


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[bytes, ...]  # the first one seals; all of them open

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def seal(self, plaintext: str, aad: str = "") -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.current_id}.{body}"

    def open(self, sealed: str, aad: str = "") -> str:
        try:
            version, kid, body = sealed.split(".", 2)
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error):
            raise CryptoError("not a sealed value") from None
        key = next((k for k in self.keys if key_id(k) == kid), None)
        if version != VERSION or key is None:
            raise CryptoError(f"sealed with key {kid}, which is not in the key ring")
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise CryptoError("sealed value does not open (wrong key or altered data)") from None

    def sealed_with_current(self, sealed: str) -> bool:
        return sealed.split(".", 2)[1:2] == [self.current_id]


def parse_ring(text: str) -> KeyRing:
    keys = tuple(decode_key(part) for part in text.replace("\n", ",").split(",") if part.strip())
    if not keys:
        raise CryptoError("no key given")
    return KeyRing(keys)


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write the ring atomically with mode 0600 (created so, never widened afterwards)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_key_ring(secret_key: str, data_dir: Path) -> KeyRing:
    """The ring from the setting, else from the key file (generated on first use)."""
    if secret_key.strip():
        return parse_ring(secret_key)
    path = Path(data_dir) / KEY_FILE_NAME
    if not path.exists():
        private_dir(path.parent)
        write_key_file(path, [new_key_text()])
    return parse_ring(path.read_text())
