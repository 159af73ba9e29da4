"""Heading-, paragraph- and sentence-aware chunking, measured in the embedding model's tokens.

A chunk never crosses a section (heading or PDF page), so its citation metadata is exact. Within
a section, paragraphs and then sentences are packed up to a token budget; the next chunk starts
with the last sentences of the previous one (overlap) so an answer split across a boundary is
still found whole. Counting uses the model's own tokenizer: the model ignores anything past 256
tokens, so a chunk that merely looked short in words would lose its tail silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tokenizers import Tokenizer

from modelpilot.knowledge.extract import Section
from modelpilot.rag.embedder import MAX_TOKENS, TOKENIZER_DIR

TARGET_TOKENS = 200
OVERLAP_TOKENS = 40
MAX_PREFIX_TOKENS = 40
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])[\"')\]]*\s+(?=\S)")


@dataclass
class Chunk:
    text: str
    heading: str | None
    page: int | None
    url: str | None
    token_count: int
    embed_text: str


@functools.lru_cache(maxsize=1)
def tokenizer() -> Tokenizer:
    tok = Tokenizer.from_file(str(TOKENIZER_DIR / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(texts: list[str]) -> list[int]:
    if not texts:
        return []
    return [len(e.ids) for e in tokenizer().encode_batch(texts, add_special_tokens=False)]


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def _split_long(text: str, limit: int) -> list[str]:
    """A sentence longer than the budget, cut at token boundaries (by character offsets)."""
    offsets = tokenizer().encode(text, add_special_tokens=False).offsets
    pieces = []
    for start in range(0, len(offsets), limit):
        window = offsets[start:start + limit]
        pieces.append(text[window[0][0]:window[-1][1]].strip())
    return [p for p in pieces if p]


def _units(text: str, budget: int) -> list[tuple[str, int, bool]]:
    """(text, tokens, starts_paragraph) for each sentence or sentence piece."""
    units: list[tuple[str, int, bool]] = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        sentences = split_sentences(paragraph)
        for index, (sentence, tokens) in enumerate(zip(sentences, count_tokens(sentences))):
            pieces = _split_long(sentence, budget) if tokens > budget else [sentence]
            for piece_index, piece in enumerate(pieces):
                piece_tokens = tokens if len(pieces) == 1 else count_tokens([piece])[0]
                units.append((piece, piece_tokens, index == 0 and piece_index == 0))
    return units


def embed_prefix(title: str, heading: str | None) -> str:
    """Title and heading put before a chunk's text for embedding (context the text may lack)."""
    parts = [p for p in (title, heading) if p]
    prefix = " — ".join(dict.fromkeys(parts))
    if not prefix:
        return ""
    if count_tokens([prefix])[0] > MAX_PREFIX_TOKENS:
        prefix = _split_long(prefix, MAX_PREFIX_TOKENS)[0]
    return prefix + "\n"


def _join(units: list[tuple[str, int, bool]]) -> str:
    out = ""
    for text, _, starts_paragraph in units:
        out += ("\n\n" if starts_paragraph else " ") + text if out else text
    return out


def chunk_section(section: Section, title: str, url: str | None = None,
                  target: int = TARGET_TOKENS, overlap: int = OVERLAP_TOKENS) -> list[Chunk]:
    prefix = embed_prefix(title, section.heading)
    prefix_tokens = count_tokens([prefix])[0] if prefix else 0
    # [CLS] and [SEP] take two of the model's tokens.
    budget = max(32, min(target, MAX_TOKENS - 2 - prefix_tokens))
    chunks: list[Chunk] = []
    window: list[tuple[str, int, bool]] = []
    size = 0
    fresh = 0  # units in the window not yet part of an emitted chunk

    def emit() -> None:
        text = _join(window)
        chunks.append(Chunk(text, section.heading, section.page, url, size, prefix + text))

    for unit in _units(section.text, budget):
        if window and size + unit[1] > budget:
            emit()
            keep: list[tuple[str, int, bool]] = []
            kept = 0
            for previous in reversed(window):
                if kept + previous[1] > overlap or kept + previous[1] + unit[1] > budget:
                    break
                keep.insert(0, previous)
                kept += previous[1]
            window, size, fresh = keep, kept, 0
        window.append(unit)
        size += unit[1]
        fresh += 1
    if window and fresh:
        emit()
    return chunks


def chunk_sections(sections: list[Section], title: str, url: str | None = None) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections:
        chunks.extend(chunk_section(section, title, url))
    return chunks
