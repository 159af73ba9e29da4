"""Standard Webhooks signing: `whsec_` secrets and the v1 HMAC-SHA256 signature.

The signed content is "{webhook-id}.{webhook-timestamp}.{body}" under the secret's decoded
bytes; the header is `v1,<base64 signature>`. Receivers verify it with any Standard Webhooks
library (the tests use the official `standardwebhooks` package, not this module).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
