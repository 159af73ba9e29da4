"""`builtin/extractive`: a model that needs no provider and answers from the knowledge alone.

If the best retrieved chunk is an FAQ entry, its answer is the reply; otherwise the few sentences
of the best passages that share the most words with the question. With no knowledge it says so
plainly. It streams in pieces like a real model; tokens are counted roughly, and it is free.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

from modelpilot.providers.llm import Usage, rough_tokens

NO_KNOWLEDGE = ("I don't have any relevant information about that in my knowledge base yet. "
                "Please try rephrasing, or contact us directly.")
MAX_SENTENCES = 3
PIECE_CHARS = 24
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _best_sentences(question: str, chunks: Sequence) -> list[str]:
    """Sentences from the top passages, the ones sharing most words with the question first,
    then returned in their reading order so the answer reads naturally."""
    wanted = _words(question)
    scored: list[tuple[float, int, str]] = []
    order = 0
    for rank, chunk in enumerate(chunks[:3]):
        for sentence in _SENTENCE_END.split(" ".join(chunk.text.split())):
            if len(sentence) < 3:
                continue
            overlap = len(wanted & _words(sentence))
            scored.append((overlap - rank * 0.5, order, sentence))
            order += 1
    picked = sorted(scored, key=lambda item: (-item[0], item[1]))[:MAX_SENTENCES]
    return [sentence for _, _, sentence in sorted(picked, key=lambda item: item[1])]


def extractive_answer(question: str, chunks: Sequence) -> str:
    if not chunks:
        return NO_KNOWLEDGE
    best = max(chunks, key=lambda c: c.score)
    if best.kind == "faq" and best.answer:
        return best.answer.strip()
    ordered = sorted(chunks, key=lambda c: -c.score)
    sentences = _best_sentences(question, ordered)
    return " ".join(sentences) if sentences else ordered[0].text.strip()


@dataclass
class ExtractiveStream:
    """Same shape as providers.llm.ModelStream: iterate for text pieces, then read `usage`."""
    question: str
    chunks: Sequence
    prompt_text: str = ""
    usage: Usage = field(default_factory=Usage)
    tool_calls: list = field(default_factory=list)  # it never calls tools

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        answer = extractive_answer(self.question, self.chunks)
        for start in range(0, len(answer), PIECE_CHARS):
            yield answer[start:start + PIECE_CHARS]
            await asyncio.sleep(0)  # let other streams run between pieces
        self.usage = Usage(tokens_in=rough_tokens(self.prompt_text or self.question),
                           tokens_out=rough_tokens(answer), cost=0.0, cost_note="built-in model, free")
