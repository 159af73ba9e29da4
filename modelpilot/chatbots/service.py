"""Chatbots: create, read, change and delete, with the checks msgspec types cannot express."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from modelpilot.core.access import WorkspaceAccess
from modelpilot.billing import service as billing
from modelpilot.core import audit
from modelpilot.core.db import Connection, Database
from modelpilot.core.errors import ApiError, FieldErrors, invalid, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.chatbots import repo
from modelpilot.chatbots.entities import Bot
from modelpilot.chatbots.handoff_config import clean_handoff
from modelpilot.chatbots.schemas import CreateBotBody, UpdateBotBody
from modelpilot.chatbots.slugs import first_free, slug_base
from modelpilot.providers import service as providers
from modelpilot.settings import Settings



def clean_origin(value: str, field: str) -> str:
    """An origin as browsers send it: scheme://host[:port], lower-case, no path."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise invalid(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(field, "must be a URL such as https://www.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise invalid(field, "must be an origin only (scheme, host and port), without a path")
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _clean_fields(values: dict, errors: FieldErrors) -> dict:
    """Normalises what msgspec's types let through; every problem goes to `errors`, so one reply
    names all bad fields."""
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            errors.add("name", "must not be empty")
    if "starter_questions" in values:
        values["starter_questions"] = [q.strip() for q in values["starter_questions"] if q.strip()]
    if "allowed_origins" in values:
        origins = [errors.check(f"allowed_origins[{i}]", clean_origin, o, f"allowed_origins[{i}]")
                   for i, o in enumerate(values["allowed_origins"])]
        values["allowed_origins"] = list(dict.fromkeys(o for o in origins if o))
    if "accent_color" in values:
        values["accent_color"] = values["accent_color"].lower()
    if "handoff" in values:
        values["handoff"] = clean_handoff(msgspec.to_builtins(values["handoff"]), errors)
    return values


async def _checked(db: Database, workspace_id: str, values: dict) -> dict:
    errors = FieldErrors()
    values = _clean_fields(values, errors)
    if values.get("model"):
        problem = await providers.model_problem(db, workspace_id, values["model"])
        if problem:
            errors.add("model", problem)
    errors.raise_if_any()
    return values


def slug_taken(slug: str) -> ApiError:
    return ApiError(409, "slug_taken", f"slug: {slug!r} is already used by another chatbot in this workspace.",
                    [{"field": "slug", "message": "is already used by another chatbot in this workspace"}])


async def _slug_for(conn: Connection, workspace_id: str, wanted: str | None, name: str, bot_id: str) -> str:
    """The slug asked for (409 when another bot has it), or the first free one derived from name.
    Runs in the write transaction that stores it; the unique index backs it up."""
    if wanted:
        owner = await repo.slug_owner(conn, workspace_id, wanted)
        if owner is not None and owner != bot_id:
            raise slug_taken(wanted)
        return wanted
    base = slug_base(name)
    return first_free(base, await repo.slugs_starting(conn, workspace_id, base[:50]))


async def find_bot(db: Database, workspace_id: str, id_or_slug: str) -> Bot | None:
    """The workspace's bot by id or slug (what /v1 `model` and the MCP tools name), or None."""
    async with db.read() as conn:
        return await repo.find_bot_by_name(conn, workspace_id, id_or_slug)


async def list_bots(db: Database, access: WorkspaceAccess) -> list[dict]:
    async with db.read() as conn:
        return [bot.public() for bot in await repo.list_bots(conn, access.workspace_id)]


async def bots_of(db: Database, workspace_id: str) -> list[Bot]:
    """The workspace's bots as entities, oldest first (other domains call this)."""
    async with db.read() as conn:
        return await repo.list_bots(conn, workspace_id)


async def get_bot(db: Database, workspace_id: str, bot_id: str) -> Bot:
    """The bot (with workspace_id) or 404; other domains call this."""
    async with db.read() as conn:
        row = await repo.get_bot(conn, workspace_id, bot_id)
    if row is None:
        raise not_found("chatbot")
    return row


async def count_bots_in(conn: Connection, workspace_id: str) -> int:
    """For the plan's limits (billing asks through the app's wiring)."""
    return await repo.count_bots(conn, workspace_id)


async def create_bot(db: Database, settings: Settings, access: WorkspaceAccess, body: CreateBotBody) -> dict:
    access.require("editor")
    values = await _checked(db, access.workspace_id, msgspec.to_builtins(body))
    if not values.get("model"):
        values["model"] = await providers.default_bot_model(db, settings, access.workspace_id)
    now = utc_now_iso()
    values.update(id=new_id(), created_at=now, updated_at=now)
    async with db.write() as conn:
        # Checked in the insert's transaction, so two concurrent creates cannot both pass the limit.
        await billing.ensure_under_limit_in(conn, settings, access.workspace_id, "chatbots",
                                            lambda c: repo.count_bots(c, access.workspace_id))
        values["slug"] = await _slug_for(conn, access.workspace_id, values.get("slug"), values["name"], values["id"])
        await repo.insert_bot(conn, access.workspace_id, values)
        await audit.record(conn, access.workspace_id, "chatbot.created", **access.audit_actor,
                           target_type="chatbot", target_id=values["id"], details={"name": values["name"]})
        bot = await repo.get_bot(conn, access.workspace_id, values["id"])
    return bot.public()


async def update_bot(db: Database, access: WorkspaceAccess, bot_id: str, body: UpdateBotBody) -> dict:
    access.require("editor")
    changes = await _checked(db, access.workspace_id,
                             {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET})
    async with db.write() as conn:
        if await repo.get_bot(conn, access.workspace_id, bot_id) is None:
            raise not_found("chatbot")
        if "slug" in changes:
            await _slug_for(conn, access.workspace_id, changes["slug"], "", bot_id)
        if changes:
            await repo.update_bot(conn, access.workspace_id, bot_id, {**changes, "updated_at": utc_now_iso()})
            await audit.record(conn, access.workspace_id, "chatbot.updated", **access.audit_actor,
                               target_type="chatbot", target_id=bot_id, details={"fields": sorted(changes)})
        bot = await repo.get_bot(conn, access.workspace_id, bot_id)
    return bot.public()


async def delete_bot(db: Database, access: WorkspaceAccess, bot_id: str) -> None:
    """Removes the bot; its conversations, messages, documents and chunks go by FK cascade, and
    the chunks' delete trigger removes their vectors and FTS rows. Usage events stay (billing and
    analytics history)."""
    access.require("editor")
    async with db.write() as conn:
        if not await repo.delete_bot(conn, access.workspace_id, bot_id):
            raise not_found("chatbot")
        await audit.record(conn, access.workspace_id, "chatbot.deleted", **access.audit_actor,
                           target_type="chatbot", target_id=bot_id)


async def workspace_of_bot(db: Database, bot_id: str) -> str | None:
    """The workspace a bot belongs to, looked up by id alone. Only for the public widget, whose
    requests name nothing but the bot; everything after this is scoped to the answer."""
    async with db.read() as conn:
        return await repo.workspace_of_bot(conn, bot_id)
