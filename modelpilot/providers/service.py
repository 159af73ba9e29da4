"""LLM providers of a workspace: sealed keys, the key test, and which key serves a bot's model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from modelpilot.core.access import WorkspaceAccess
from modelpilot.core import audit
from modelpilot.core.db import Database
from modelpilot.core.errors import ApiError, invalid, not_found
from modelpilot.core.ids import utc_now_iso
from modelpilot.core.safe_http import FetchError
from modelpilot.providers.entities import ProviderKey
from modelpilot.providers import catalog, repo
from modelpilot.providers.errors import LLMError
from modelpilot.providers.keys import open_api_key, seal_api_key
from modelpilot.providers import price_map
from modelpilot.providers.direct import direct_model_name
from modelpilot.providers.llm import (
    LLMCall, load_litellm, loaded_litellm, needs_litellm_to_price, one_token_call, preload_litellm,
)
from modelpilot.providers.models import (
    BUILTIN_EXTRACTIVE, COMMON_PROVIDERS, KEYLESS_PROVIDERS, PROVIDER_NAME, PREFIX_ALIASES, ModelRoute,
    DEFAULT_MODELS, default_model_for, mask_key, route_by_prefix,
)
from modelpilot.providers.schemas import ProviderBody
from modelpilot.settings import Settings


@dataclass(frozen=True)
class ResolvedModel:
    """Everything needed to call a bot's model; `api_key` is plaintext: never log or return it."""
    route: ModelRoute
    api_key: str = ""
    api_base: str | None = None

    @property
    def builtin(self) -> bool:
        return self.route.provider == "builtin"



async def load_model_catalog() -> None:
    """LiteLLM's bundled model catalog (which models call tools), read once, off the event loop,
    without importing LiteLLM (price_map.py)."""
    await price_map.load_catalog()


def needs_litellm(model: str, allow_direct: bool) -> bool:
    """Whether a bot on this model chats, or is priced, through LiteLLM (the built-in model and
    the direct client's models are not)."""
    route = route_by_prefix(model)
    if route is not None and route.provider == "builtin":
        return False
    if route is None or not allow_direct or direct_model_name(route.provider, route.litellm_model) is None:
        return True
    return needs_litellm_to_price(route.litellm_model)


def preload_litellm_for(model: str, allow_direct: bool) -> None:
    """A bot was saved with this model: if it needs LiteLLM, import it now in the background,
    so the bot's first chat does not wait ~2 s for it."""
    if loaded_litellm() is not None or not needs_litellm(model, allow_direct):
        return
    task = asyncio.get_running_loop().create_task(preload_litellm(0), name="litellm-import")
    _preloads.add(task)
    task.add_done_callback(_preloads.discard)


_preloads: set[asyncio.Task] = set()  # held until done: the loop keeps only weak references


async def check_provider_name(provider: str) -> str:
    if not PROVIDER_NAME.match(provider):
        raise invalid("provider", "must be a LiteLLM provider name such as openai, anthropic or ollama")
    if provider in COMMON_PROVIDERS:
        return provider
    litellm = await load_litellm()
    if provider not in {str(p.value if hasattr(p, "value") else p) for p in litellm.provider_list}:
        raise invalid("provider", f"'{provider}' is not a provider LiteLLM knows")
    return provider


def clean_api_base(value: str | None) -> str | None:
    """A base URL only: scheme, host, port and path. A query or fragment would let the stored
    key be sent to a path of the admin's choosing (`http://host/anything?` + our path), and
    userinfo hides the real host from a reader."""
    if value is None or not value.strip():
        return None
    base = value.strip().rstrip("/")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise invalid("api_base", "must be an http(s) URL such as http://localhost:11434") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("api_base", "must be an http(s) URL such as http://localhost:11434")
    if "?" in base or "#" in base:
        raise invalid("api_base", "must be a base URL without a query (?) or fragment (#)")
    if "@" in parts.netloc:
        raise invalid("api_base", "must not contain a user name or password (user@host)")
    if not base.isprintable() or any(ch.isspace() for ch in base):
        raise invalid("api_base", "must not contain spaces or control characters")
    return base


async def list_providers(db: Database, access: WorkspaceAccess) -> list[dict]:
    async with db.read() as conn:
        return [row.public() for row in await repo.list_providers(conn, access.workspace_id)]


async def put_provider(db: Database, settings: Settings, access: WorkspaceAccess, provider: str,
                       body: ProviderBody) -> dict:
    access.require("admin")
    provider = await check_provider_name(provider)
    api_key, api_base = body.api_key.strip(), clean_api_base(body.api_base)
    if not api_key and not (provider in KEYLESS_PROVIDERS and api_base):
        raise invalid("api_key", "is required for this provider")
    if provider == "openai_compatible" and not api_base:
        raise invalid("api_base", "is required for an OpenAI-compatible server")
    sealed = seal_api_key(settings, access.workspace_id, provider, api_key)
    async with db.write() as conn:
        await repo.upsert_provider(conn, access.workspace_id, provider, sealed, mask_key(api_key), api_base,
                                   utc_now_iso())
        await audit.record(conn, access.workspace_id, "provider.saved", **access.audit_actor, target_type="provider",
                           target_id=provider, details={"api_base": api_base, "key_mask": mask_key(api_key)})
        row = await repo.get_provider(conn, access.workspace_id, provider)
    return row.public()


async def delete_provider(db: Database, access: WorkspaceAccess, provider: str) -> None:
    access.require("admin")
    async with db.write() as conn:
        if not await repo.delete_provider(conn, access.workspace_id, provider):
            raise not_found("provider")
        await audit.record(conn, access.workspace_id, "provider.deleted", **access.audit_actor,
                           target_type="provider", target_id=provider)


def _credentials(settings: Settings, workspace_id: str, route: ModelRoute, rows: dict[str, ProviderKey]) -> ResolvedModel:
    row = rows.get(route.provider)
    if row is None:
        raise ApiError(409, "provider_not_configured",
                       f"This bot's model needs the '{route.provider}' provider, which this workspace has not "
                       "set up. An admin can add its key under Providers, or pick another model.")
    api_key = open_api_key(settings, workspace_id, route.provider, row.sealed_key)
    return ResolvedModel(route, api_key, row.api_base)


async def _route_for(model: str, rows: dict[str, ProviderKey]) -> ModelRoute:
    route = route_by_prefix(model)
    if route is not None:
        return route
    prefix = model.partition("/")[0]
    if "/" in model and PREFIX_ALIASES.get(prefix, prefix) in rows:
        return ModelRoute(PREFIX_ALIASES.get(prefix, prefix), model)
    return await _route_by_litellm(model)


def keys_sync(conn, workspace_id: str) -> dict[str, ProviderKey]:
    """The workspace's providers with their sealed keys, on a blocking connection: what
    resolve_model reads, for a caller that reads it with other things in one hop (chat's turn)."""
    return repo.providers_with_keys_sync(conn, workspace_id)


async def resolve_model(db: Database, settings: Settings, workspace_id: str, model: str,
                        keys: dict[str, ProviderKey] | None = None) -> ResolvedModel:
    """The provider, key and base for a model name; 409 if the workspace lacks that provider.
    One database read (none when the caller brings `keys_sync`'s): this runs before every chat message."""
    route = route_by_prefix(model)
    if route is not None and route.provider == "builtin":
        return ResolvedModel(route)
    if keys is None:
        async with db.read() as conn:
            keys = await repo.providers_with_keys(conn, workspace_id)
    return _credentials(settings, workspace_id, await _route_for(model, keys), keys)


async def _route_by_litellm(model: str) -> ModelRoute:
    litellm = await load_litellm()
    try:
        _, provider, _, _ = litellm.get_llm_provider(model)
    except Exception:  # LiteLLM raises BadRequestError for names it cannot place
        raise ApiError(409, "unknown_model", f"No provider is known for the model '{model}'; "
                       "write it as provider/model, e.g. openai/gpt-4o-mini.") from None
    return ModelRoute(PREFIX_ALIASES.get(provider, provider), model)


async def model_problem(db: Database, workspace_id: str, model: str) -> str | None:
    """Why a bot cannot use this model (its provider is not connected, or none is known for it),
    as the end of a sentence about the `model` field; None when it can. Run when a bot is saved,
    so the mistake shows in the editor rather than as a failed chat later."""
    if model == BUILTIN_EXTRACTIVE:
        return None
    async with db.read() as conn:
        rows = await repo.providers_with_keys(conn, workspace_id)
    try:
        route = await _route_for(model, rows)
    except ApiError:
        return (f"names no provider ModelPilot knows ('{model}'); write it as provider/model, "
                "e.g. openai/gpt-4o-mini, or pick one from the list")
    if route.provider == "builtin" or route.provider in rows:
        return None
    return (f"needs the '{route.provider}' provider, which this workspace has not connected; "
            "pick a model of a connected provider, or ask an admin to add this one under Providers")


async def _models_of(settings: Settings, workspace_id: str, row: ProviderKey) -> catalog.ProviderModels:
    provider = row.provider
    key = (workspace_id, provider, row.api_base, row.updated_at)
    if (hit := catalog.cached(key)) is not None:
        return hit
    found = catalog.ProviderModels(provider)
    url = catalog.list_url(provider, row.api_base)
    if url:
        api_key = open_api_key(settings, workspace_id, provider, row.sealed_key)
        fetcher = catalog.fetcher_for(api_key, settings.llm_connect_timeout, settings.llm_idle_timeout)
        try:
            page = await fetcher.fetch(url, accept="application/json")
            found.models, found.source = catalog.parse_server_list(provider, page.content), "server"
        except FetchError as exc:
            found.error = f"Could not read the server's model list: {exc.message}"
    if not found.models:
        found.models, found.source = catalog.litellm_chat_models(await load_litellm(), provider), "litellm"
    return catalog.remember(key, catalog.with_default(found))


async def provider_models(db: Database, settings: Settings, access: WorkspaceAccess, provider: str) -> dict:
    async with db.read() as conn:
        rows = await repo.providers_with_keys(conn, access.workspace_id)
    if provider not in rows:
        raise not_found("provider")
    return (await _models_of(settings, access.workspace_id, rows[provider])).to_dict()


async def workspace_models(db: Database, settings: Settings, access: WorkspaceAccess) -> dict:
    """The models of every connected provider, and the one a new bot gets by default."""
    async with db.read() as conn:
        rows = await repo.providers_with_keys(conn, access.workspace_id)
    lists = await asyncio.gather(*(_models_of(settings, access.workspace_id, rows[p]) for p in sorted(rows)))
    return {"providers": [found.to_dict() for found in lists], "builtin": BUILTIN_EXTRACTIVE,
            "default": _first_default(lists) or BUILTIN_EXTRACTIVE}


def _first_default(lists: list[catalog.ProviderModels]) -> str | None:
    # A hosted provider's cheap model first (known without asking anyone), then a server's first model.
    for found in lists:
        if found.provider in DEFAULT_MODELS:
            return DEFAULT_MODELS[found.provider]
    return next((found.default for found in lists if found.default), None)


async def default_bot_model(db: Database, settings: Settings, workspace_id: str) -> str:
    """What a new bot uses when none is given: a connected provider's default model, and the
    built-in model only when no provider is connected (or none offers a model)."""
    async with db.read() as conn:
        rows = await repo.providers_with_keys(conn, workspace_id)
    for provider in sorted(rows):
        if provider in DEFAULT_MODELS:
            return DEFAULT_MODELS[provider]
    for provider in sorted(rows):
        found = await _models_of(settings, workspace_id, rows[provider])
        if found.default:
            return found.default
    return BUILTIN_EXTRACTIVE


async def test_provider(db: Database, settings: Settings, access: WorkspaceAccess, provider: str,
                        model: str | None) -> dict:
    access.require("admin")
    async with db.read() as conn:
        rows = await repo.providers_with_keys(conn, access.workspace_id)
    if provider not in rows:
        raise not_found("provider")
    if not model and provider not in DEFAULT_MODELS:
        # A server people run themselves has no known cheap model: test with the first it lists.
        model = (await _models_of(settings, access.workspace_id, rows[provider])).default
    model = model or default_model_for(provider)
    if model == BUILTIN_EXTRACTIVE:
        raise invalid("model", "must name a model of this provider to test with (its server listed none)")
    route = route_by_prefix(model) or ModelRoute(provider, model)
    if route.provider != provider:
        route = ModelRoute(provider, model)
    resolved = _credentials(settings, access.workspace_id, route, rows)
    call = LLMCall(route.litellm_model, [{"role": "user", "content": "Say OK."}], resolved.api_key,
                   resolved.api_base, connect_timeout=settings.llm_connect_timeout,
                   idle_timeout=settings.llm_idle_timeout, provider=provider,
                   allow_private=settings.providers_may_reach_private)
    try:
        seconds = await one_token_call(call)
    except LLMError as exc:
        return {"ok": False, "provider": provider, "model": model,
                "error": {"code": exc.code, "message": exc.message}}
    return {"ok": True, "provider": provider, "model": model, "latency_ms": round(seconds * 1000)}
