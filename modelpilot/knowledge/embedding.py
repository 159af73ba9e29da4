"""Embedding with the workspace's provider: the wiring between rag (which decides when) and
providers (which makes the call), and the ingestion's provider path.

knowledge imports both; rag imports neither, so start-up hands rag `ProviderEmbeddings`
(rag.workspace_embedding.use_provider_embedder).
"""

from __future__ import annotations

from typing import Awaitable, Callable, Sequence

import numpy as np

from modelpilot.core.db import Database
from modelpilot.knowledge.extracted import ExtractionError
from modelpilot.providers.embeddings import BATCH, provider_embeddings
from modelpilot.providers.errors import LLMError
from modelpilot.rag import embedder, store
from modelpilot.rag.workspace_embedding import WorkspaceEmbedding, current, provider_embedder, setting_of, unit_rows
from modelpilot.scheduler.worker import RetryableError
from modelpilot.settings import Settings

# Failures that another try may not meet (a provider down, slow, rate limiting); the others need
# an admin (a key, a model, a setting) and fail the document at once.
TRANSIENT = frozenset({"provider_unreachable", "provider_timeout", "provider_error", "provider_rate_limited"})
# A chat waits on its question's vector: past this, the question is searched by keywords alone.
QUESTION_TIMEOUT_SECONDS = 10.0


def storage_dim() -> int:
    """The dimension of the instance's vector table (384 with the built-in model)."""
    return embedder.model_info().dim


class ProviderEmbeddings:
    """rag's ProviderEmbedder for one app: (workspace, provider, model, texts) -> unit rows."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    async def __call__(self, workspace_id: str, provider: str, model: str, texts: list[str],
                       question: bool = False) -> np.ndarray:
        timeout = min(QUESTION_TIMEOUT_SECONDS, self.settings.llm_idle_timeout) if question else None
        vectors = await provider_embeddings(self.db, self.settings, workspace_id, provider, model, list(texts),
                                            storage_dim(), timeout)
        return unit_rows(np.asarray(vectors, dtype=np.float32).reshape(len(texts), storage_dim()))


async def provider_setting(db: Database, workspace_id: str) -> WorkspaceEmbedding | None:
    """The workspace's embedding when it is a provider's, else None (the built-in path)."""
    setting = await current(db, workspace_id)
    return setting if setting.identity is not None else None


def ingestion_error(exc: LLMError) -> Exception:
    """What the ingestion job raises for a failed provider call: retried when it may pass."""
    message = f"The embedding provider failed: {exc.message}"
    return RetryableError(message) if exc.code in TRANSIENT else ExtractionError(message, "embedding_failed")


async def embed_chunks_by_provider(db: Database, workspace_id: str, setting: WorkspaceEmbedding,
                                   chunks: list[store.NewChunk], text_of: Callable[[store.NewChunk], str],
                                   progress: Callable[[float], Awaitable[None]],
                                   span: tuple[float, float]) -> np.ndarray:
    """Vectors for chunks from the workspace's provider, BATCH texts a request, reporting progress
    across `span`; each chunk is marked with the embedding that made its vector."""
    call = provider_embedder(db)
    parts: list[np.ndarray] = []
    for start in range(0, len(chunks), BATCH):
        batch: Sequence[store.NewChunk] = chunks[start:start + BATCH]
        try:
            parts.append(await call(workspace_id, setting.provider, setting.model, [text_of(c) for c in batch]))
        except LLMError as exc:
            raise ingestion_error(exc) from None
        for chunk in batch:
            chunk.embedding = setting.identity
        done = min(len(chunks), start + BATCH) / max(len(chunks), 1)
        await progress(span[0] + (span[1] - span[0]) * done)
    return np.concatenate(parts) if parts else np.zeros((0, storage_dim()), dtype=np.float32)


async def embedding_info(conn, workspace_id: str, builtin: embedder.ModelInfo) -> embedder.ModelInfo:
    """What a document indexed now records as its embedding: the provider's identity, or the
    built-in model's."""
    setting = await setting_of(conn, workspace_id)
    return builtin if setting.identity is None else embedder.ModelInfo(setting.identity, builtin.dim)
