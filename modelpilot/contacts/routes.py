"""Contacts routes (API.md "Leads, contacts and verified visitors"): list, one, add, edit,
delete, CSV export. Roles: viewers read, agents add and edit, editors export, admins delete."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import delete, get, patch, post
from litestar.params import Parameter
from litestar.response import Stream

from modelpilot.contacts import export, service
from modelpilot.contacts.schemas import CreateContactBody, UpdateContactBody
from modelpilot.contacts.service import ContactConversations
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.db import Database

WS = "/api/v1/workspaces/{ws:str}"
CONTACT = WS + "/contacts/{contact_id:str}"
Text = Annotated[str | None, Parameter(max_length=300)]
Limit = Annotated[int, Parameter(ge=1, le=100)]


@get(WS + "/contacts", tags=["contacts"])
async def list_contacts(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                        q: Text = None, cursor: Text = None, limit: Limit = 50) -> dict:
    return await service.list_contacts(db, access, contact_conversations, q, cursor, limit)


@post(WS + "/contacts", tags=["contacts"], status_code=201)
async def create_contact(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                         data: CreateContactBody) -> dict:
    return await service.create_contact(db, access, contact_conversations, data)


@get(WS + "/contacts/export", tags=["contacts"])
async def export_contacts(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                          format: Literal["csv"] = "csv") -> Stream:
    body = await export.export_csv(db, access, contact_conversations)
    return Stream(body, media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="contacts.csv"'})


@get(CONTACT, tags=["contacts"])
async def get_contact(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                      contact_id: str) -> dict:
    return await service.contact_detail(db, access, contact_conversations, contact_id)


@patch(CONTACT, tags=["contacts"])
async def update_contact(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                         contact_id: str, data: UpdateContactBody) -> dict:
    return await service.update_contact(db, access, contact_conversations, contact_id, data)


@delete(CONTACT, tags=["contacts"], status_code=204)
async def delete_contact(db: Database, access: WorkspaceAccess, contact_conversations: ContactConversations,
                         contact_id: str) -> None:
    await service.delete_contact(db, access, contact_conversations, contact_id)


ROUTES = [list_contacts, create_contact, export_contacts, get_contact, update_contact, delete_contact]
