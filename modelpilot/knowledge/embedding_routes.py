"""The workspace's embedding setting: built-in (default) or a connected provider's model."""

from __future__ import annotations

from litestar import get, put

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.knowledge import embedding_service as service
from modelpilot.knowledge.schemas import EmbeddingBody
from modelpilot.knowledge.service import Knowledge

PATH = "/api/v1/workspaces/{ws:str}/embedding"


@get(PATH, tags=["knowledge"])
async def get_embedding(db: Database, access: WorkspaceAccess) -> dict:
    return await service.get_embedding(db, access)


@put(PATH, tags=["knowledge"])
async def put_embedding(knowledge: Knowledge, access: WorkspaceAccess, data: EmbeddingBody) -> dict:
    return await service.put_embedding(knowledge, access, data)


ROUTES = [get_embedding, put_embedding]
