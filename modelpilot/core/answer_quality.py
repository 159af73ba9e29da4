"""Answer quality: when an answer counts as weak, and when a conversation counts as resolved.

This module is the one statement of the rule (issue 21). The conversation log's filters
(`chat/log_repo.py`: `unanswered`, `resolved`), the unanswered-questions insights
(`GET /workspaces/{ws}/insights/unanswered`) and the resolution rate of `/analytics/usage`
(`analytics/repo.py`) all read it from here, so a figure and the conversations it links to agree.

An assistant answer is **weak** ("unanswered") when any of these holds; each is a reason word:

| reason        | when                                                                          |
|---------------|-------------------------------------------------------------------------------|
| `no_source`   | no knowledge passed the bot's score threshold: the answer had no sources      |
| `fallback`    | the answer failed (provider error): the visitor got the fallback message      |
| `thumbs_down` | the visitor rated it not helpful (feedback -1)                                |
| `handoff`     | the visitor asked for a person right after it (button, keyword, handoff tool) |
| `repeat`      | its question repeats one the visitor asked in the last `REPEAT_MINUTES`       |
|               | minutes of the conversation (`is_repeat`: nearly the same content words)      |

`no_source`, `fallback` and `repeat` are stored when the turn is saved, `handoff` when the
conversation goes to waiting (`messages.weak_reasons`, a JSON list, migration 0018);
`thumbs_down` is read from the feedback column itself, so a changed rating counts at once.

A conversation is **resolved** when it has at least one answer, none of its answers is weak,
and nobody asked for a person in it (`conversations.handoff_at` unset, which also covers a
handoff asked before the bot answered anything). Every other conversation with an answer or a
handoff is unresolved.
"""

from __future__ import annotations

import json
import re

REASONS = ("no_source", "fallback", "thumbs_down", "handoff", "repeat")
STORED_REASONS = ("no_source", "fallback", "handoff", "repeat")  # thumbs_down is the feedback column
REPEAT_MINUTES = 10
REPEAT_SIMILARITY = 0.6  # Jaccard overlap of content words at or above which a question is a repeat

# Words that carry no topic: "how do I reset my password" and "how can I reset the password"
# are the same question once these go.
_STOP_WORDS = frozenset(
    "a an the i me my we our you your it its is are was were be been am do does did can could would "
    "should will shall may might must to of in on at for from by with about as and or but if so "
    "what which who whom whose when where why how this that these those there here please hi hello "
    "thanks thank again still just any some".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def weak_answer(m: str = "m") -> str:
    """SQL predicate over messages alias `m`: an assistant answer that is weak (see above)."""
    return f"({m}.role = 'assistant' AND ({m}.weak_reasons <> '[]' OR {m}.feedback = -1))"


def resolved(c: str = "c", m: str = "rq") -> str:
    """SQL predicate over conversations alias `c`: the conversation is resolved (see above).
    `m` is the alias its subqueries give messages."""
    of_c = f"FROM messages {m} WHERE {m}.workspace_id = {c}.workspace_id AND {m}.conversation_id = {c}.id"
    return (f"({c}.handoff_at IS NULL AND EXISTS (SELECT 1 {of_c} AND {m}.role = 'assistant')"
            f" AND NOT EXISTS (SELECT 1 {of_c} AND {weak_answer(m)}))")


def unresolved(c: str = "c", m: str = "rq") -> str:
    """SQL predicate: a conversation with an answer or a handoff that is not resolved."""
    of_c = f"FROM messages {m} WHERE {m}.workspace_id = {c}.workspace_id AND {m}.conversation_id = {c}.id"
    return (f"(NOT {resolved(c, m)} AND ({c}.handoff_at IS NOT NULL"
            f" OR EXISTS (SELECT 1 {of_c} AND {m}.role = 'assistant')))")


def reasons_of(stored: str | list[str] | None, feedback: int | None) -> list[str]:
    """An answer's reasons in REASONS order: the stored ones plus thumbs_down from its rating."""
    words = set(json.loads(stored) if isinstance(stored, str) else stored or [])
    if feedback == -1:
        words.add("thumbs_down")
    return [reason for reason in REASONS if reason in words]


def with_reason(stored: str | list[str] | None, reason: str) -> str:
    """The stored JSON list with `reason` added (once, in REASONS order)."""
    assert reason in STORED_REASONS
    words = set(json.loads(stored) if isinstance(stored, str) else stored or []) | {reason}
    return json.dumps([r for r in REASONS if r in words])


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.casefold()) if w not in _STOP_WORDS)


def is_repeat(question: str, earlier: list[str]) -> bool:
    """Whether `question` asks nearly the same thing as one of the `earlier` questions: their
    content words overlap by REPEAT_SIMILARITY or more (Jaccard), or are the same."""
    words = content_words(question)
    if not words:
        return False
    for other in earlier:
        theirs = content_words(other)
        if theirs and len(words & theirs) / len(words | theirs) >= REPEAT_SIMILARITY:
            return True
    return False
