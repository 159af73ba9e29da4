"""Which embedding a workspace's vectors use: the built-in model, or a provider's (opt-in).

A workspace with no row in workspace_embeddings uses the built-in model. One that chose a
provider embeds its chunks and its questions through that provider's OpenAI-compatible
`/embeddings` (the call itself is providers', handed to rag at start-up by knowledge/lifecycle.py:
rag imports no other domain). Every chunk records which embedding made its vector
(`chunks.embedding`, the setting's `identity`; NULL for the built-in model). After a change, the
workspace is re-embedded in the background (knowledge/reembed.py); until that is done the
vector half of search compares the question only with chunks of the current embedding, and
the keyword half still covers every chunk.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from modelpilot.core.db import Connection, Database
from modelpilot.rag import embedding_repo
from modelpilot.rag.embedder import cached_query_vector, embed_knowledge, embed_query, remember_query_vector


@dataclass(frozen=True)
class WorkspaceEmbedding:
    mode: str = "builtin"
    provider: str | None = None
    model: str | None = None
    identity: str | None = None   # chunks.embedding of this setting's vectors (None: built-in)
    version: int = 0
    state: str | None = None      # re-embedding: running, done, failed (None: never changed)
    error: str | None = None

    @property
    def mixed(self) -> bool:
        """Chunks of another embedding may still be in the workspace (re-embedding not done)."""
        return self.state in ("running", "failed")

    @classmethod
    def from_row(cls, row: dict | None) -> "WorkspaceEmbedding":
        if row is None:
            return cls()
        return cls(mode=row["mode"], provider=row["provider"], model=row["model"], identity=row["identity"],
                   version=int(row["version"]), state=row["reembed_state"], error=row["reembed_error"])


def identity_for(mode: str, provider: str | None, model: str | None) -> str | None:
    return None if mode == "builtin" else f"{provider}:{model}"


async def setting_of(conn: Connection, workspace_id: str) -> WorkspaceEmbedding:
    return WorkspaceEmbedding.from_row(await embedding_repo.get_setting(conn, workspace_id))


async def current(db: Database, workspace_id: str) -> WorkspaceEmbedding:
    async with db.read() as conn:
        return await setting_of(conn, workspace_id)


class ProviderEmbedder(Protocol):
    """(workspace_id, provider, model, texts) -> one unit-length float32 row per text; `question`:
    one search question, which a chat waits on (a shorter timeout). Raises the provider's own
    error, in plain words, when the call fails."""

    async def __call__(self, workspace_id: str, provider: str, model: str, texts: list[str],
                       question: bool = False) -> np.ndarray: ...


_embedders: "weakref.WeakKeyDictionary[Database, ProviderEmbedder]" = weakref.WeakKeyDictionary()


def use_provider_embedder(db: Database, embedder: ProviderEmbedder) -> None:
    """Wired at start-up (knowledge/lifecycle.py): how this app's workspaces reach providers."""
    _embedders[db] = embedder


class NoProviderEmbedder(RuntimeError):
    """A workspace chose a provider embedding, but nothing was wired to call providers."""


def provider_embedder(db: Database) -> ProviderEmbedder:
    found = _embedders.get(db)
    if found is None:
        raise NoProviderEmbedder("provider embeddings are not wired for this database")
    return found


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1: stored vectors are compared by dot product (rag/store.py)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=-1, keepdims=True), 1e-12)


async def embed_texts_with(db: Database, workspace_id: str, setting: WorkspaceEmbedding,
                           texts: list[str]) -> np.ndarray:
    """Vectors of knowledge texts by the setting's embedding (the built-in model's on its knowledge
    threads, which step aside for chats)."""
    if setting.identity is None:
        return await embed_knowledge(texts, db.foreground)
    return await provider_embedder(db)(workspace_id, setting.provider, setting.model, texts)


async def embed_query_with(db: Database, workspace_id: str, setting: WorkspaceEmbedding, text: str) -> np.ndarray:
    """The question's vector by the workspace's embedding, from the query cache when it repeats.
    A provider's vectors are cached per workspace (two workspaces may reach different servers
    under one model name), never under the built-in model's key."""
    if setting.identity is None:
        return await embed_query(text)
    key = (f"provider:{workspace_id}:{setting.identity}", text)
    found = cached_query_vector(key)
    if found is not None:
        return found
    # The embedder's rows are unit length already (ProviderEmbedder).
    vector = np.ascontiguousarray((await provider_embedder(db)(workspace_id, setting.provider, setting.model,
                                                               [text], question=True))[0])
    remember_query_vector(key, vector)
    return vector


# ---- changing it (knowledge/embedding_service.py, knowledge/reembed.py) ---------------------

async def save(conn: Connection, workspace_id: str, mode: str, provider: str | None, model: str | None,
               reembed_state: str | None, now: str) -> int:
    """Store a new setting; returns its version (a re-embedding job names it)."""
    return await embedding_repo.save_setting(conn, workspace_id, mode, provider, model,
                                             identity_for(mode, provider, model), reembed_state, now)


async def end_reembedding(conn: Connection, workspace_id: str, version: int, state: str, error: str | None,
                          now: str) -> bool:
    return await embedding_repo.set_reembed_state(conn, workspace_id, version, state, error, now)


async def count_reembed_failure(conn: Connection, workspace_id: str, version: int, error: str) -> int:
    return await embedding_repo.count_failure(conn, workspace_id, version, error)


async def clear_reembed_failures(conn: Connection, workspace_id: str, version: int) -> None:
    await embedding_repo.clear_failures(conn, workspace_id, version)
