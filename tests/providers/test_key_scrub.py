"""Provider keys never reach an error message, whatever shape an upstream echoes them in."""

from __future__ import annotations

import base64

import pytest

from modelpilot.providers.errors import error_for_status, scrub

KEY = "sk-proj-Zq8vR2mT5xW9yB3nK7pL1cF4hJ6dG0sA"
RAW = KEY.encode()


@pytest.mark.parametrize("echo", [
    KEY, KEY[::-1], " ".join(KEY), "-".join(KEY), ". ".join(KEY),
    base64.b64encode(RAW).decode(), base64.urlsafe_b64encode(RAW).decode().rstrip("="),
    base64.b32encode(RAW).decode(), RAW.hex(), RAW.hex().upper(),
    KEY[:20], KEY[-15:], KEY[9:30], KEY[::-1][:16], base64.b64encode(RAW).decode()[:24], RAW.hex()[10:40],
    f"Bearer {KEY}", f"api_key={KEY}&x=1", f'"{KEY[4:]}"',
])
def test_the_key_is_scrubbed_in_any_shape(echo: str) -> None:
    text = f"Upstream said: unauthorized, you sent {echo} which is wrong"
    shown = scrub(text, KEY)
    assert "[key]" in shown and shown.startswith("Upstream said: unauthorized")
    for piece in (KEY, KEY[::-1]):
        assert not any(piece[i:i + 8] in shown for i in range(len(piece) - 7)), shown


def test_ordinary_words_stay_readable() -> None:
    text = "The model gpt-4o-mini is overloaded (request req_8f3a2b); try again at 12:30."
    assert scrub(text, KEY) == text
    assert scrub("Rate limit reached for organization org-abc on tokens per min", KEY).endswith("per min")


def test_errors_from_a_provider_status_carry_no_key() -> None:
    class Call:
        api_key, litellm_model = KEY, "openai/gpt-4o-mini"

    error = error_for_status(401, f"Incorrect API key provided: {' '.join(KEY)}", Call())
    assert error.code == "provider_auth" and "Z q 8 v" not in error.message
    error = error_for_status(500, f"echo {base64.b64encode(RAW).decode()} {KEY[::-1]}", Call())
    assert KEY[::-1][:8] not in error.message and base64.b64encode(RAW).decode()[:8] not in error.message
