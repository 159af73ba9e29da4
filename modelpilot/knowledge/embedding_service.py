"""A workspace's embedding setting: read it with its re-embedding progress; change it (admins).

A change is tried first (one provider call, the answer's size checked), then saved with a new
version and, when the vectors' embedding differs from the one stored, a re-embedding job queued
in the same transaction (knowledge/reembed.py).
"""

from __future__ import annotations

from modelpilot.core import audit
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid
from modelpilot.core.ids import utc_now_iso
from modelpilot.knowledge.embedding import ProviderEmbeddings
from modelpilot.knowledge.reembed import REEMBED_JOB
from modelpilot.knowledge.schemas import EmbeddingBody
from modelpilot.knowledge.service import Knowledge
from modelpilot.providers.embeddings import EMBEDDING_PROVIDERS
from modelpilot.providers.errors import LLMError
from modelpilot.providers import service as providers
from modelpilot.rag import store, workspace_embedding
from modelpilot.rag.workspace_embedding import WorkspaceEmbedding, identity_for, setting_of
from modelpilot.scheduler import jobs

MODES = ("builtin", "provider")
TEST_TEXT = "ModelPilot checks that this model can embed text."
# Provider failures that are about the connection (key, address), not the model chosen.
PROVIDER_PROBLEMS = frozenset({"provider_auth", "provider_unreachable", "provider_blocked", "provider_not_configured"})


async def get_embedding(db: Database, access: WorkspaceAccess) -> dict:
    async with db.read() as conn:
        setting = await setting_of(conn, access.workspace_id)
        progress = await _progress(conn, access.workspace_id, setting)
    return {"mode": setting.mode, "provider": setting.provider, "model": setting.model, "reembedding": progress}


async def _progress(conn, workspace_id: str, setting: WorkspaceEmbedding) -> dict | None:
    """Chunks embedded with the current setting out of all; None when nothing was ever re-embedded."""
    if setting.state is None:
        return None
    done, total = await store.count_embedded(conn, workspace_id, setting.identity)
    progress = {"state": setting.state, "done": done, "total": total}
    if setting.error:
        progress["error"] = setting.error
    return progress


async def _clean(db: Database, access: WorkspaceAccess, body: EmbeddingBody) -> tuple[str, str | None, str | None]:
    mode = body.mode.strip().lower()
    if mode not in MODES:
        raise invalid("mode", "must be builtin or provider")
    if mode == "builtin":
        if body.provider or body.model:
            raise invalid("provider" if body.provider else "model", "must be left out for the built-in embedding")
        return mode, None, None
    provider, model = (body.provider or "").strip(), (body.model or "").strip()
    if not provider:
        raise invalid("provider", "is required: a provider connected in this workspace (openai, "
                                  "openai_compatible or ollama)")
    if provider not in EMBEDDING_PROVIDERS:
        raise invalid("provider", "must be openai, openai_compatible or ollama (a provider with "
                                  "OpenAI-compatible embeddings)")
    connected = {row["provider"] for row in await providers.list_providers(db, access)}
    if provider not in connected:
        raise invalid("provider", f"'{provider}' is not connected in this workspace; an admin can add it "
                                  "under Providers first")
    if not model or len(model) > 200 or not model.isprintable():
        raise invalid("model", "must be an embedding model's name of 1 to 200 characters, such as "
                               "text-embedding-3-small")
    return mode, provider, model


async def _try_model(kb: Knowledge, workspace_id: str, provider: str, model: str) -> None:
    """One real call: a model that fails, or answers with another size, is refused by name."""
    try:
        await ProviderEmbeddings(kb.db, kb.settings)(workspace_id, provider, model, [TEST_TEXT])
    except LLMError as exc:
        field = "provider" if exc.code in PROVIDER_PROBLEMS else "model"
        raise invalid(field, _as_fragment(exc.message)) from None


def _as_fragment(message: str) -> str:
    """A provider's sentence as the end of one about the field ("Model failed the test call: ...")."""
    return "failed the test call: " + message.rstrip(".")


async def put_embedding(kb: Knowledge, access: WorkspaceAccess, body: EmbeddingBody) -> dict:
    access.require("admin")
    mode, provider, model = await _clean(kb.db, access, body)
    if mode == "provider":
        await _try_model(kb, access.workspace_id, provider, model)
    identity = identity_for(mode, provider, model)
    queued = False
    async with kb.db.write() as conn:
        before = await setting_of(conn, access.workspace_id)
        # Vectors need making again when their embedding changes, or a re-embedding did not finish.
        reembed = before.identity != identity or before.state == "failed"
        if reembed or (before.mode, before.provider, before.model) != (mode, provider, model):
            state = "running" if reembed else before.state
            version = await workspace_embedding.save(conn, access.workspace_id, mode, provider, model, state,
                                                     utc_now_iso())
            if reembed:
                await jobs.enqueue(conn, access.workspace_id, REEMBED_JOB, access.workspace_id, {"version": version})
                queued = True
            await audit.record(conn, access.workspace_id, "embedding.saved", **access.audit_actor,
                               target_type="workspace", target_id=access.workspace_id,
                               details={"mode": mode, "provider": provider, "model": model, "reembed": reembed})
    if queued:
        kb.worker.wake()
    return await get_embedding(kb.db, access)
