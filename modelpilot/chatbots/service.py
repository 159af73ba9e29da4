"""Chatbots: create, read, change and delete, with the checks msgspec types cannot express."""

from __future__ import annotations

from typing import Awaitable, Callable
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
from modelpilot.chatbots.lead_form_config import clean_lead_form
from modelpilot.core.crypto import CryptoError
from modelpilot.core.tokens import new_secret
from modelpilot.providers.keys import key_ring
from modelpilot.chatbots.schemas import CreateBotBody, UpdateBotBody
from modelpilot.chatbots.slugs import first_free, slug_base
from modelpilot.providers import service as providers
from modelpilot.settings import Settings

# Whether picked tools exist (actions of this bot, MCP servers of the workspace): asked of the
# domains that own them, wired in app.py (they import chatbots, so chatbots cannot import them).
ToolRefCheck = Callable[[Database, str, "str | None", list[dict]], Awaitable[list[tuple[str, str]]]]
_TOOL_KEYS = {"action": ("id",), "mcp": ("server_id", "tool"), "builtin": ("name",)}


def clean_tools(tools: list[dict], errors: FieldErrors) -> list[dict]:
    """Each pick with exactly the keys its type needs, duplicates dropped."""
    cleaned: list[dict] = []
    for i, tool in enumerate(tools):
        keys = _TOOL_KEYS[tool["type"]]
        missing = [key for key in keys if not tool.get(key)]
        if missing:
            errors.add(f"tools[{i}]", f"a {tool['type']} tool needs {' and '.join(missing)}")
            continue
        pick = {"type": tool["type"], **{key: tool[key] for key in keys}}
        if pick not in cleaned:
            cleaned.append(pick)
    return cleaned


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
    if "tools" in values:
        values["tools"] = clean_tools(msgspec.to_builtins(values["tools"]), errors)
    if "lead_form" in values:
        values["lead_form"] = clean_lead_form(msgspec.to_builtins(values["lead_form"]), errors)
    return values


async def _checked(db: Database, workspace_id: str, values: dict, bot_id: str | None = None,
                   tool_check: ToolRefCheck | None = None) -> dict:
    errors = FieldErrors()
    values = _clean_fields(values, errors)
    if values.get("model"):
        problem = await providers.model_problem(db, workspace_id, values["model"])
        if problem:
            errors.add("model", problem)
    if values.get("tools") and tool_check is not None:
        for field, problem in await tool_check(db, workspace_id, bot_id, values["tools"]):
            errors.add(field, problem)
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
        bots = await repo.list_bots(conn, access.workspace_id)
    await providers.load_model_catalog()  # each bot's tool_support reads it
    return [bot.public() for bot in bots]


async def bot_public(db: Database, workspace_id: str, bot_id: str) -> dict:
    """The bot as the API shows it (tool_support included)."""
    bot = await get_bot(db, workspace_id, bot_id)
    await providers.load_model_catalog()
    return bot.public()


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


async def any_bot_needs_litellm(db: Database, settings: Settings) -> bool:
    """Whether some bot of the instance chats through LiteLLM (start-up: import it early or not)."""
    async with db.read() as conn:
        models = await repo.models_in_use(conn)
    return any(providers.needs_litellm(model, settings.llm_direct_openai) for model in models)


async def create_bot(db: Database, settings: Settings, access: WorkspaceAccess, body: CreateBotBody,
                     tool_check: ToolRefCheck | None = None) -> dict:
    access.require("editor")
    values = await _checked(db, access.workspace_id, msgspec.to_builtins(body), None, tool_check)
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
    await providers.load_model_catalog()
    providers.preload_litellm_for(bot.model, settings.llm_direct_openai)
    return bot.public()


async def update_bot(db: Database, access: WorkspaceAccess, bot_id: str, body: UpdateBotBody,
                     tool_check: ToolRefCheck | None = None, settings: Settings | None = None) -> dict:
    access.require("editor")
    changes = await _checked(db, access.workspace_id,
                             {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET},
                             bot_id, tool_check)
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
    await providers.load_model_catalog()
    if "model" in changes:
        providers.preload_litellm_for(bot.model, settings.llm_direct_openai if settings else True)
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


async def bot_by_id_alone(db: Database, bot_id: str) -> Bot | None:
    """The bot, looked up by id alone (its workspace first, then the bot within that workspace),
    in one read. Only for the public widget, whose requests name nothing but the bot; everything
    after this is scoped to the bot's workspace."""
    def read(conn) -> Bot | None:
        workspace_id = repo.workspace_of_bot_sync(conn, bot_id)
        return None if workspace_id is None else repo.get_bot_sync(conn, workspace_id, bot_id)
    return await db.run_read(read)


# ---- the identity secret of verified visitors ----------------------------------------------------
IDENTITY_PREFIX = "mpid_"


def _identity_aad(workspace_id: str, bot_id: str) -> str:
    return f"{workspace_id}/chatbot/{bot_id}/identity"


async def create_identity_secret(db: Database, settings: Settings, access: WorkspaceAccess, bot_id: str) -> dict:
    """A new secret (shown once, sealed at rest); the old one, if any, stops verifying at once."""
    access.require("editor")
    secret, now = IDENTITY_PREFIX + new_secret(32), utc_now_iso()
    sealed = key_ring(settings).seal(secret, aad=_identity_aad(access.workspace_id, bot_id))
    async with db.write() as conn:
        if not await repo.set_identity_secret(conn, access.workspace_id, bot_id, sealed, now):
            raise not_found("chatbot")
        await audit.record(conn, access.workspace_id, "chatbot.identity_secret_created", **access.audit_actor,
                           target_type="chatbot", target_id=bot_id)
    return {"secret": secret, "created_at": now}


async def delete_identity_secret(db: Database, access: WorkspaceAccess, bot_id: str) -> None:
    access.require("editor")
    async with db.write() as conn:
        if not await repo.set_identity_secret(conn, access.workspace_id, bot_id, None, None):
            raise not_found("chatbot")
        await audit.record(conn, access.workspace_id, "chatbot.identity_secret_deleted", **access.audit_actor,
                           target_type="chatbot", target_id=bot_id)


async def identity_secret_of(db: Database, settings: Settings, bot: Bot) -> str | None:
    """The bot's identity secret in clear, for verifying a visitor's token; None when unset."""
    async with db.read() as conn:
        sealed = await repo.identity_secret(conn, bot.workspace_id, bot.id)
    if sealed is None:
        return None
    aad = _identity_aad(bot.workspace_id, bot.id)
    try:
        return key_ring(settings).open(sealed, aad=aad)
    except CryptoError:  # rotated by another process since this one loaded the ring
        return key_ring(settings, reload=True).open(sealed, aad=aad)


def reseal_identity_secrets_sync(conn, ring) -> int:
    """`modelpilot rotate-key`: every bot's identity secret sealed again with the new ring's first
    key, in the rotation's transaction."""
    rows = repo.all_sealed_identity_secrets_sync(conn)
    for row in rows:
        aad = _identity_aad(row["workspace_id"], row["id"])
        resealed = ring.seal(ring.open(row["identity_secret"], aad=aad), aad=aad)
        repo.set_sealed_identity_secret_sync(conn, row["workspace_id"], row["id"], resealed)
    return len(rows)
