"""Verified visitors: the host site signs a JWT (HS256, the bot's identity secret) and the widget
sends it as X-ModelPilot-Identity. A token that does not verify is a 401 with its reason, never
a silently anonymous visitor: a page that meant to sign someone in must learn that it did not.
"""

from __future__ import annotations

import jwt

from modelpilot.core.errors import ApiError

HEADER = "x-modelpilot-identity"
LEEWAY_SECONDS = 30  # clocks of the host site and this server drift a little
MAX_TOKEN_CHARS = 8000
MAX_SUB_CHARS = 200


def identity_invalid(reason: str, message: str) -> ApiError:
    return ApiError(401, "identity_invalid", message, {"reason": reason})


def _refusal(exc: jwt.InvalidTokenError) -> ApiError:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return identity_invalid("expired", "The identity token has expired; sign a new one for this visitor.")
    if isinstance(exc, jwt.InvalidSignatureError):
        return identity_invalid("bad_signature", "The identity token's signature does not match this chatbot's "
                                                 "identity secret (wrong secret, or the token was altered).")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return identity_invalid(f"{exc.claim}_missing", f"The identity token has no '{exc.claim}' claim; "
                                                        "'sub' and 'exp' are required.")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return identity_invalid("not_yet_valid", "The identity token is not valid yet (its nbf or iat is in the "
                                                 "future).")
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return identity_invalid("bad_algorithm", "The identity token must be signed with HS256.")
    if isinstance(exc, jwt.exceptions.InvalidSubjectError):
        return identity_invalid("sub_invalid", "The identity token's 'sub' claim must be a string.")
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return identity_invalid("iat_invalid", "The identity token's 'iat' claim must be a number of seconds.")
    if isinstance(exc, jwt.DecodeError):
        return identity_invalid("malformed", "The identity token is not a well-formed JWT.")
    return identity_invalid("invalid", f"The identity token is not valid ({exc}).")


def verify_token(token: str, secret: str | None) -> dict:
    """The token's claims, or a 401 `identity_invalid` saying why not."""
    if secret is None:
        raise identity_invalid("not_configured", "This chatbot has no identity secret, so it cannot verify "
                                                 "signed-in visitors; create one in the chatbot's settings.")
    if len(token) > MAX_TOKEN_CHARS:
        raise identity_invalid("malformed", "The identity token is too long.")
    try:
        claims = jwt.decode(token, secret.encode("utf-8"), algorithms=["HS256"], leeway=LEEWAY_SECONDS,
                            options={"require": ["exp", "sub"]})
    except jwt.InvalidTokenError as exc:
        raise _refusal(exc) from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip() or len(sub) > MAX_SUB_CHARS:
        raise identity_invalid("sub_invalid", f"The identity token's 'sub' claim must be 1-{MAX_SUB_CHARS} "
                                              "characters of text.")
    return claims
