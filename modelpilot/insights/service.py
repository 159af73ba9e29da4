"""Unanswered questions grouped by similarity, and an answer improved into a correction.

Which answers count as unanswered is core/answer_quality.py's rule; chat lists them with the
questions they replied to. Here the questions of each bot are embedded with the local model
(rag.embedder, the one retrieval uses) and grouped greedily: a question joins the first group
whose centroid it is at least SIMILARITY close to (cosine), else it starts a group. Largest
groups first.

A correction is an FAQ document of one pair (the visitor's question, the answer an editor wrote)
in the bot's knowledge, through knowledge's own FAQ path: its chunk (`kind='faq'`, with the
answer) is embedded as question and answer together, so the question and its close paraphrases
find it first, and the built-in model answers with it word for word.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from modelpilot.chat import conversations
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.dates import parse_range
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid
from modelpilot.knowledge import fields
from modelpilot.knowledge import service as knowledge
from modelpilot.knowledge.schemas import FaqItem, FaqSourceBody
from modelpilot.knowledge.service import Knowledge
from modelpilot.rag.embedder import embed_texts

SIMILARITY = 0.8      # cosine at or above which two questions are "the same question"
MAX_ANSWERS = 1000    # the latest unanswered answers looked at (embedding each costs ~2 ms)
MAX_EXAMPLES = 5
CORRECTION_PREFIX = "Correction: "
IMPROVE_MIN_ROLE = "editor"  # changing a bot's knowledge; agents and viewers may not


class _Group:
    def __init__(self, vector: np.ndarray) -> None:
        self.total = vector.astype(np.float32).copy()
        self.items: list[dict] = []

    def centroid(self) -> np.ndarray:
        return self.total / (np.linalg.norm(self.total) or 1.0)

    def add(self, item: dict, vector: np.ndarray) -> None:
        if self.items:
            self.total += vector
        self.items.append(item)


def _cluster(items: list[dict], vectors: dict[str, np.ndarray]) -> list[_Group]:
    groups: list[_Group] = []
    for item in items:
        vector = vectors[item["question"]]
        best = max(groups, key=lambda g: float(g.centroid() @ vector), default=None)
        if best is None or float(best.centroid() @ vector) < SIMILARITY:
            best = _Group(vector)
            groups.append(best)
        best.add(item, vector)
    return groups


def _shape(group: _Group) -> dict:
    items = group.items
    reasons = Counter(reason for item in items for reason in item["reasons"])
    label = Counter(item["question"] for item in items).most_common(1)[0][0]
    return {"label": label, "count": len(items), "chatbot_id": items[0]["chatbot_id"],
            "chatbot_name": items[0]["chatbot_name"], "reasons": dict(reasons.most_common()),
            "latest_at": items[0]["created_at"],
            "examples": [{key: item[key] for key in ("conversation_id", "message_id", "question", "reasons",
                                                      "created_at")} for item in items[:MAX_EXAMPLES]]}


async def unanswered_groups(db: Database, workspace_id: str, chatbot_id: str | None, start: str | None,
                            end: str | None) -> dict:
    """`GET /workspaces/{ws}/insights/unanswered`: the visitor questions whose answers were weak
    (no source over the threshold, fallback, thumbs down, handoff, repeat) in [from, to), grouped
    by similarity per bot: `{from, to, groups: [{label, count, chatbot_id, chatbot_name, reasons:
    {reason: count}, latest_at, examples: [{conversation_id, message_id, question, reasons,
    created_at}]}]}`, largest groups first (then the most recent). `label` is the group's most
    asked wording; examples are its latest questions."""
    lower, upper = parse_range(start, end)
    items = await conversations.weak_answers(db, workspace_id, chatbot_id or None, lower, upper, MAX_ANSWERS)
    texts = sorted({item["question"] for item in items})
    vectors = dict(zip(texts, await embed_texts(texts))) if texts else {}
    by_bot: dict[str, list[dict]] = {}
    for item in items:
        by_bot.setdefault(item["chatbot_id"], []).append(item)
    groups = [_shape(group) for bot_items in by_bot.values() for group in _cluster(bot_items, vectors)]
    groups.sort(key=lambda g: g["latest_at"], reverse=True)
    groups.sort(key=lambda g: g["count"], reverse=True)  # stable: equal counts stay most recent first
    return {"from": lower, "to": upper, "groups": groups}


def clean_answer(answer: str) -> str:
    text = answer.strip()
    if not text:
        raise invalid("answer", "must not be empty: write the answer the bot should give")
    if len(text) > fields.MAX_ANSWER_CHARS:
        raise invalid("answer", f"must be at most {fields.MAX_ANSWER_CHARS} characters")
    return text


async def improve_answer(kb: Knowledge, access: WorkspaceAccess, conversation_id: str, message_id: str,
                         answer: str) -> dict:
    """`POST .../conversations/{id}/messages/{message}/improve`: the answer's question and the
    editor's `answer` become a correction (an FAQ document titled "Correction: <question>") in the
    bot's knowledge, indexed in the background like any FAQ. 201 `{document_id, chatbot_id,
    question, status}`. Editors and above (403 first); 404 for a message that is not an answer
    of this workspace's conversation; 400 naming `answer`."""
    access.require(IMPROVE_MIN_ROLE)
    text = clean_answer(answer)
    found = await conversations.answer_and_question(kb.db, access.workspace_id, conversation_id, message_id)
    question = " ".join(found["question"].split())[:fields.MAX_QUESTION_CHARS]
    title = (CORRECTION_PREFIX + question)[:200]
    doc = await knowledge.add_faq(kb, access, found["chatbot_id"],
                                  FaqSourceBody(items=[FaqItem(question=question, answer=text)], title=title))
    return {"document_id": doc["id"], "chatbot_id": found["chatbot_id"], "question": question,
            "status": doc["status"]}
