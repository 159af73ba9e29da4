"""Request shapes for test sets. Lengths are bounded here; the service checks what a type cannot
say (an empty question, too many cases, a page without a source) and names the field."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

MAX_CASES = 200
MAX_QUESTION = 2000
MAX_WORDS = 20

Name = Annotated[str, Meta(max_length=200)]
Question = Annotated[str, Meta(max_length=MAX_QUESTION)]
Source = Annotated[str, Meta(max_length=2000)]
Page = Annotated[int, Meta(ge=1, le=100_000)]
Word = Annotated[str, Meta(max_length=200)]


class CaseBody(msgspec.Struct, forbid_unknown_fields=True):
    question: Question
    expect_source: Source | None = None  # a document id, its title, or a page's URL
    expect_page: Page | None = None
    expect_text: Annotated[list[Word], Meta(max_length=MAX_WORDS)] = msgspec.field(default_factory=list)


# The case list's length is checked in the service, so "too many" names `cases` with the limit in
# plain words rather than as a schema error deep in the body.
class EvalSetBody(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    cases: list[CaseBody] = msgspec.field(default_factory=list)
    auto_run: bool = False


class EvalSetPut(msgspec.Struct, forbid_unknown_fields=True):
    """PUT replaces the set; a field left out keeps its value."""
    name: Name | UnsetType = UNSET
    cases: list[CaseBody] | UnsetType = UNSET
    auto_run: bool | UnsetType = UNSET


class AppendCasesBody(msgspec.Struct, forbid_unknown_fields=True):
    """More cases at the end of a set (the unanswered-questions page imports through this)."""
    cases: list[CaseBody]
