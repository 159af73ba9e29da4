"""A bot's vectors as one matrix in memory, for SQLite's exact nearest-neighbour search.

sqlite-vec's KNN reads the bot's vectors out of its chunk blobs and scores them one call per
vector: ~100 ms at 100k chunks here, most of a search. The same exact scan as one matrix
product is ~10 ms (numpy, BLAS), with the same results: every vector is scored, nothing is
approximate, so recall is unchanged.

Correctness rests on the generation (migration 0020): every chunk written or deleted draws a new
random one for its bot in the same transaction, and a search uses a matrix only if it was read
at the generation the search reads now (in the same hop to the reader). A search that finds no
matrix, or a stale one, answers with sqlite-vec as before and asks for a fresh matrix, read in
the background on a reader connection (~0.6 s at 100k; one at a time per bot, so a bot being
indexed is not re-read after every document).

Per process, keyed by database file and bot; bounded by MODELPILOT_VECTOR_CACHE_MB (least recently
searched bots go first; a bot larger than the whole budget is never held). Postgres does not
use it: its HNSW index is the in-memory structure there.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

DEFAULT_BUDGET_MB = 256
# A failed or superseded read is not retried for this long: a bot whose knowledge changes every
# moment (a crawl in progress) is searched with sqlite-vec meanwhile.
RETRY_SECONDS = 2.0


@dataclass
class BotVectors:
    generation: int
    rowids: np.ndarray          # int64, one per row of matrix
    matrix: np.ndarray          # float32, unit rows
    _position: dict[int, int] | None = field(default=None, repr=False)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes + self.rowids.nbytes)

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(rowid, cosine similarity) of the k best rows, best first (ties: lower rowid)."""
        if not len(self.rowids) or k <= 0:
            return []
        scores = self.matrix @ _unit(query)
        if k < len(scores):
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(len(scores))
        order = sorted(top.tolist(), key=lambda i: (-float(scores[i]), int(self.rowids[i])))
        return [(int(self.rowids[i]), float(scores[i])) for i in order]

    def similarities(self, rowids, query: np.ndarray) -> dict[int, float]:
        if self._position is None:
            self._position = {int(r): i for i, r in enumerate(self.rowids.tolist())}
        q = _unit(query)
        return {rowid: float(self.matrix[i] @ q) for rowid in rowids
                if (i := self._position.get(int(rowid))) is not None}


def _unit(query: np.ndarray) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32)
    return q / max(float(np.linalg.norm(q)), 1e-12)


class VectorCache:
    def __init__(self, budget_mb: int = DEFAULT_BUDGET_MB) -> None:
        self.budget_bytes = budget_mb * 1024 * 1024
        self._entries: OrderedDict[tuple[str, str], BotVectors] = OrderedDict()
        self._reading: set[tuple[str, str]] = set()
        self._tried: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()  # searches run on several reader threads

    def configure(self, budget_mb: int) -> None:
        with self._lock:
            self.budget_bytes = budget_mb * 1024 * 1024
            self._evict()

    def fresh(self, key: tuple[str, str], generation: int) -> BotVectors | None:
        """The bot's matrix if it was read at this generation."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                return None
            self._entries.move_to_end(key)
            return entry

    def claim_read(self, key: tuple[str, str]) -> bool:
        """True if the caller should read this bot's matrix now (no read in flight, none just tried)."""
        if self.budget_bytes <= 0:
            return False
        with self._lock:
            if key in self._reading or time.monotonic() - self._tried.get(key, float("-inf")) < RETRY_SECONDS:
                return False
            self._reading.add(key)
            self._tried[key] = time.monotonic()
            return True

    def finish_read(self, key: tuple[str, str], entry: BotVectors | None, retry_after: float = 0.0) -> None:
        """Keep what was read (None: nothing to keep); retry_after: ask again no sooner than that."""
        with self._lock:
            self._reading.discard(key)
            if retry_after:
                self._tried[key] = time.monotonic() + retry_after - RETRY_SECONDS
            if entry is None or entry.nbytes > self.budget_bytes:
                self._entries.pop(key, None)
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            self._evict()

    @property
    def max_rows(self) -> int:
        """The most 384-dimension vectors one bot may have to be held."""
        return self.budget_bytes // (384 * 4 + 8)

    def held_bytes(self) -> int:
        with self._lock:
            return sum(entry.nbytes for entry in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tried.clear()

    def _evict(self) -> None:
        while self._entries and sum(e.nbytes for e in self._entries.values()) > self.budget_bytes:
            self._entries.popitem(last=False)


CACHE = VectorCache()
