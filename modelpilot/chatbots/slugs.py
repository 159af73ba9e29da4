"""A chatbot's slug: the short name OpenAI-compatible and MCP clients call it by.

Unique in its workspace, `[a-z0-9-]{1,64}`. Derived from the name when none is given (accents
folded, every run of other characters one '-'), and numbered `-2`, `-3`, ... when taken. A name
change keeps the slug: integrations that call the bot by it must not break.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 64
SLUG_PATTERN = r"^[a-z0-9-]{1,64}$"
_OTHER = re.compile(r"[^a-z0-9]+")


def slug_base(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    base = _OTHER.sub("-", folded).strip("-")[:MAX_SLUG].strip("-")
    return base or "bot"


def first_free(base: str, taken: set[str]) -> str:
    """base itself, or base-2, base-3, ... (shortened so the number fits) when taken."""
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[:MAX_SLUG - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1
