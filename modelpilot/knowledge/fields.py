"""Checks and defaults for what editors type into knowledge documents: titles, text, FAQ pairs.

Shared by creating and by editing a document, so both refuse the same input with the same words.
"""

from __future__ import annotations

import re
from typing import Sequence

from modelpilot.core.errors import invalid
from modelpilot.knowledge.schemas import FaqItem

MAX_TITLE_CHARS = 200
MAX_TEXT_BYTES = 5_000_000
MAX_FAQ_ITEMS = 2000
MAX_QUESTION_CHARS = 1000
MAX_ANSWER_CHARS = 10000
DEFAULT_FAQ_TITLE = "Frequently asked questions"
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
# Underscores always separate words; a hyphen does too, except inside numbers (2024-05-01).
_SEPARATORS = re.compile(r"_+|(?<!\d)-+|-+(?!\d)")


def readable_title(filename: str) -> str:
    """A title a visitor can read in a citation: `report_v2_final.pdf` -> `Report V2 Final`.

    Words already holding capitals (`FAQ`, `iOS`) are kept as written; lower-case words get a
    capital first letter."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem = _EXTENSION.sub("", name) or name
    words = _SEPARATORS.sub(" ", stem).split()
    title = " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words)
    return title[:MAX_TITLE_CHARS] or "Untitled document"


def clean_title(value: str) -> str:
    title = " ".join(value.split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise invalid("title", f"must be 1 to {MAX_TITLE_CHARS} characters")
    return title


def clean_text(value: str) -> bytes:
    if not value.strip():
        raise invalid("text", "must not be empty")
    data = value.encode()
    if len(data) > MAX_TEXT_BYTES:
        raise invalid("text", f"must be at most {MAX_TEXT_BYTES:,} bytes")
    return data


def clean_faq_items(items: Sequence[FaqItem]) -> list[dict]:
    if not 1 <= len(items) <= MAX_FAQ_ITEMS:
        raise invalid("items", f"give 1 to {MAX_FAQ_ITEMS} question/answer pairs")
    out = []
    for index, item in enumerate(items):
        question, answer = item.question.strip(), item.answer.strip()
        if not question or len(question) > MAX_QUESTION_CHARS:
            raise invalid(f"items[{index}].question", f"must be 1 to {MAX_QUESTION_CHARS} characters")
        if not answer or len(answer) > MAX_ANSWER_CHARS:
            raise invalid(f"items[{index}].answer", f"must be 1 to {MAX_ANSWER_CHARS} characters")
        out.append({"question": question, "answer": answer})
    return out
