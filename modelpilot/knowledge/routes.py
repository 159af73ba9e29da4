"""Knowledge routes: a bot's documents (upload, URL, text, FAQ), reindex, delete, and search."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database
from modelpilot.core.errors import invalid
from modelpilot.knowledge import service
from modelpilot.knowledge.schemas import DocumentPatchBody, FaqSourceBody, TextSourceBody, UrlSourceBody
from modelpilot.knowledge.service import Knowledge

BOT = "/api/v1/workspaces/{ws:str}/chatbots/{bot:str}"
DOCS = BOT + "/documents"


@get(DOCS, tags=["knowledge"])
async def list_documents(db: Database, access: WorkspaceAccess, bot: str) -> list[dict]:
    return await service.list_documents(db, access, bot)


@post(DOCS, tags=["knowledge"], status_code=202)
async def upload_document(knowledge: Knowledge, access: WorkspaceAccess, bot: str,
                          data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> dict:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise invalid("file", "send the document as multipart form field 'file'")
    content = await upload.read()
    return await service.add_file(knowledge, access, bot, upload.filename or "upload", content)


@post(DOCS + "/url", tags=["knowledge"], status_code=202)
async def add_url(knowledge: Knowledge, access: WorkspaceAccess, bot: str, data: UrlSourceBody) -> dict:
    return await service.add_url(knowledge, access, bot, data)


@post(DOCS + "/text", tags=["knowledge"], status_code=202)
async def add_text(knowledge: Knowledge, access: WorkspaceAccess, bot: str, data: TextSourceBody) -> dict:
    return await service.add_text(knowledge, access, bot, data)


@post(DOCS + "/faq", tags=["knowledge"], status_code=202)
async def add_faq(knowledge: Knowledge, access: WorkspaceAccess, bot: str, data: FaqSourceBody) -> dict:
    return await service.add_faq(knowledge, access, bot, data)


@get(DOCS + "/{doc:str}", tags=["knowledge"])
async def get_document(db: Database, access: WorkspaceAccess, bot: str, doc: str,
                       chunks: Annotated[int, Parameter(query="chunks", ge=0, le=1)] = 0) -> dict:
    return await service.get_document(db, access, bot, doc, bool(chunks))


@patch(DOCS + "/{doc:str}", tags=["knowledge"])
async def update_document(knowledge: Knowledge, access: WorkspaceAccess, bot: str, doc: str,
                          data: DocumentPatchBody) -> dict:
    return await service.update_document(knowledge, access, bot, doc, data)


@delete(DOCS + "/{doc:str}", tags=["knowledge"], status_code=204)
async def delete_document(knowledge: Knowledge, access: WorkspaceAccess, bot: str, doc: str) -> None:
    await service.delete_document(knowledge, access, bot, doc)


@post(DOCS + "/{doc:str}/reindex", tags=["knowledge"], status_code=202)
async def reindex_document(knowledge: Knowledge, access: WorkspaceAccess, bot: str, doc: str) -> dict:
    return await service.reindex_document(knowledge, access, bot, doc)


@get(BOT + "/search", tags=["knowledge"])
async def search(db: Database, access: WorkspaceAccess, bot: str, q: str = "",
                 k: Annotated[int | None, Parameter(query="k")] = None,
                 explain: Annotated[str, Parameter(query="explain")] = "") -> dict:
    return await service.search(db, access, bot, q, k, explain)


ROUTES = [list_documents, upload_document, add_url, add_text, add_faq, get_document, update_document, delete_document,
          reindex_document, search]
