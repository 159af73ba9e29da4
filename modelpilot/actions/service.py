"""HTTP actions of a bot: saved with their checks, tested, and run for the chat's tool loop.

Header values are sealed with the instance's key ring (like provider keys, re-sealed by
`modelpilot rotate-key`) and opened only to send a request; the API shows their names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from modelpilot.actions import arguments as args
from modelpilot.actions import http, repo
from modelpilot.actions.entities import Action
from modelpilot.actions.schemas import CreateActionBody, TestActionBody, UpdateActionBody
from modelpilot.chatbots import service as chatbots
from modelpilot.core import audit
from modelpilot.core.access import WorkspaceAccess
from modelpilot.core.crypto import CryptoError
from modelpilot.core.db import Database
from modelpilot.core.errors import FieldErrors, invalid, not_found
from modelpilot.core.ids import new_id, utc_now_iso
from modelpilot.core.safe_http import FetchError, check_url, refusal_for
from modelpilot.providers.keys import key_ring
from modelpilot.settings import Settings

WRITE_ROLE = "editor"
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
HEADER_NAME = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
MAX_BODY_BYTES = 20_000
NEEDS_VERIFIED = "needs a verified visitor"


def _aad(workspace_id: str, action_id: str, header: str) -> str:
    return f"action/{workspace_id}/{action_id}/{header.lower()}"


def seal_headers(settings: Settings, workspace_id: str, action_id: str, headers: dict) -> dict:
    ring = key_ring(settings)
    return {name: ring.seal(value, aad=_aad(workspace_id, action_id, name)) for name, value in headers.items()}


def open_headers(settings: Settings, action: Action) -> dict:
    opened = {}
    for name, sealed in action.headers_sealed.items():
        aad = _aad(action.workspace_id, action.id, name)
        try:
            opened[name] = key_ring(settings).open(sealed, aad=aad)
        except CryptoError:
            opened[name] = key_ring(settings, reload=True).open(sealed, aad=aad)
    return opened


def reseal_headers_sync(conn, ring) -> int:
    """`modelpilot rotate-key`: every action's header values sealed again with the new ring's first key."""
    count = 0
    for row in repo.all_sealed_headers_sync(conn):
        sealed = msgspec.json.decode(row["headers_sealed"])
        resealed = {}
        for name, value in sealed.items():
            aad = _aad(row["workspace_id"], row["id"], name)
            resealed[name] = ring.seal(ring.open(value, aad=aad), aad=aad)
        repo.set_sealed_headers_sync(conn, row["workspace_id"], row["id"], resealed)
        count += len(resealed)
    return count


def _check_url(settings: Settings, url: str, errors: FieldErrors) -> None:
    url = url.strip()
    first = url.find("{")
    parts = urlsplit(url if first < 0 else url[:first])
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return errors.add("url", "must be an http(s) URL such as https://api.example.com/orders/{order_id}")
    if first >= 0 and not url[:first].startswith(f"{parts.scheme}://{parts.netloc}/"):
        return errors.add("url", "may hold {placeholders} only in its path and query, never in the host")
    try:
        check_url(args.PLACEHOLDER.sub("x", url))
    except FetchError as exc:
        return errors.add("url", f"is not usable: {exc.message}")
    refusal = None if settings.outbound_allow_private else refusal_for(parts.hostname)
    if refusal:
        errors.add("url", f"is refused: {refusal}. An administrator of this instance can allow private "
                          "addresses with MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true")


def _check_headers(headers: dict, errors: FieldErrors) -> None:
    for name, value in headers.items():
        if not set(name) <= HEADER_NAME:
            errors.add(f"headers.{name}", "is not a valid header name")
        elif value is not None and (not value.isprintable() or "\n" in value):
            errors.add(f"headers.{name}", "must be printable text on one line")


def _check(settings: Settings, values: dict, errors: FieldErrors) -> dict:
    """The checks msgspec's types cannot express, on the action as it will be stored."""
    problem = args.schema_problem(values["parameters"])
    if problem:
        errors.add("parameters", problem)
    _check_url(settings, values["url"], errors)
    schema = values["parameters"] if not problem else {}
    for field in ("url", "body"):
        unknown = args.unknown_placeholders(values.get(field), schema)
        if unknown:
            errors.add(field, "names placeholders that are not parameters: " + ", ".join(unknown) +
                       " (use a parameter's name, or visitor.<claim>)")
    if values.get("body") is not None:
        if values["method"] not in BODY_METHODS:
            errors.add("body", f"is sent only with {', '.join(BODY_METHODS)}, not {values['method']}")
        elif len(msgspec.json.encode(values["body"])) > MAX_BODY_BYTES:
            errors.add("body", f"must be at most {MAX_BODY_BYTES} bytes of JSON")
    if args.visitor_claims_needed(values["url"], values.get("body")) and not values.get("verified_only"):
        errors.add("verified_only", "must be true when the URL or body uses {visitor.<claim>} placeholders")
    values["url"], values["description"] = values["url"].strip(), values["description"].strip()
    if not values["description"]:
        errors.add("description", "must say what the action does (the model reads it to decide when to use it)")
    return values


async def _bot(db: Database, workspace_id: str, bot_id: str) -> None:
    await chatbots.get_bot(db, workspace_id, bot_id)  # 404 for another workspace's bot


async def list_actions(db: Database, access: WorkspaceAccess, bot_id: str) -> dict:
    await _bot(db, access.workspace_id, bot_id)
    async with db.read() as conn:
        return {"items": [a.public() for a in await repo.list_actions(conn, access.workspace_id, bot_id)]}


async def get_action(db: Database, workspace_id: str, bot_id: str, action_id: str) -> Action:
    async with db.read() as conn:
        action = await repo.get_action(conn, workspace_id, bot_id, action_id)
    if action is None:
        raise not_found("action")
    return action


async def create_action(db: Database, settings: Settings, access: WorkspaceAccess, bot_id: str,
                        body: CreateActionBody) -> dict:
    access.require(WRITE_ROLE)
    await _bot(db, access.workspace_id, bot_id)
    errors = FieldErrors()
    values = msgspec.to_builtins(body)
    _check_headers(values["headers"], errors)
    values = _check(settings, values, errors)
    errors.raise_if_any()
    action_id, now, ws = new_id(), utc_now_iso(), access.workspace_id
    headers = values.pop("headers")
    values.update(id=action_id, chatbot_id=bot_id, created_at=now, updated_at=now,
                  headers_sealed=seal_headers(settings, ws, action_id, headers))
    async with db.write() as conn:
        if await repo.name_taken(conn, ws, bot_id, values["name"]):
            raise invalid("name", "is already used by another action of this bot")
        await repo.insert_action(conn, ws, values)
        await audit.record(conn, ws, "action.created", **access.audit_actor, target_type="action",
                           target_id=action_id, details={"chatbot_id": bot_id, "name": values["name"]})
        action = await repo.get_action(conn, ws, bot_id, action_id)
    return action.public()


def _merged_headers(settings: Settings, action: Action, patch: dict) -> dict:
    """PATCH headers: a null value keeps the stored one, a new value is sealed, a name left out goes."""
    kept = {name: action.headers_sealed[name] for name, value in patch.items()
            if value is None and name in action.headers_sealed}
    fresh = seal_headers(settings, action.workspace_id, action.id,
                         {name: value for name, value in patch.items() if value is not None})
    return {**kept, **fresh}


async def update_action(db: Database, settings: Settings, access: WorkspaceAccess, bot_id: str, action_id: str,
                        body: UpdateActionBody) -> dict:
    access.require(WRITE_ROLE)
    ws = access.workspace_id
    action = await get_action(db, ws, bot_id, action_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    changes = msgspec.to_builtins(changes)
    errors = FieldErrors()
    if "headers" in changes:
        _check_headers(changes["headers"], errors)
    merged = {**msgspec.structs.asdict(action), **{k: v for k, v in changes.items() if k != "headers"}}
    _check(settings, merged, errors)
    errors.raise_if_any()
    if "headers" in changes:
        changes["headers_sealed"] = _merged_headers(settings, action, changes.pop("headers"))
    changes = {k: merged.get(k, v) if k in ("url", "description") else v for k, v in changes.items()}
    async with db.write() as conn:
        if "name" in changes and await repo.name_taken(conn, ws, bot_id, changes["name"], action_id):
            raise invalid("name", "is already used by another action of this bot")
        if await repo.get_action(conn, ws, bot_id, action_id) is None:
            raise not_found("action")
        if changes:
            await repo.update_action(conn, ws, bot_id, action_id, {**changes, "updated_at": utc_now_iso()})
            await audit.record(conn, ws, "action.updated", **access.audit_actor, target_type="action",
                               target_id=action_id, details={"fields": sorted(changes)})
        updated = await repo.get_action(conn, ws, bot_id, action_id)
    return updated.public()


async def delete_action(db: Database, access: WorkspaceAccess, bot_id: str, action_id: str) -> None:
    access.require(WRITE_ROLE)
    async with db.write() as conn:
        if not await repo.delete_action(conn, access.workspace_id, bot_id, action_id):
            raise not_found("action")
        await audit.record(conn, access.workspace_id, "action.deleted", **access.audit_actor, target_type="action",
                           target_id=action_id, details={"chatbot_id": bot_id})


async def run_action(settings: Settings, action: Action, arguments: dict, claims: dict | None) -> http.ActionResult:
    """One call with arguments already checked against the schema. `claims` is None for a visitor
    who is not verified: an action that needs claims (verified_only) is then refused unsent."""
    if action.verified_only and claims is None:
        return http.ActionResult(False, None, 0, "", NEEDS_VERIFIED)
    request = http.build_request(action.method, action.url, action.body, open_headers(settings, action),
                                 arguments, claims or {}, action.timeout_s, action.max_response_bytes)
    return await http.send(request, settings.outbound_allow_private)


async def test_action(db: Database, settings: Settings, access: WorkspaceAccess, bot_id: str, action_id: str,
                      body: TestActionBody) -> dict:
    """The editor's test button: sample arguments, the real request, what came back."""
    access.require(WRITE_ROLE)
    action = await get_action(db, access.workspace_id, bot_id, action_id)
    problem = args.argument_problem(action.parameters, body.arguments)
    if problem:
        raise invalid("arguments", f"do not fit the action's parameters: {problem}")
    result = await run_action(settings, action, body.arguments, body.visitor)
    return {"ok": result.ok, "status": result.status, "latency_ms": result.latency_ms,
            "response_excerpt": result.excerpt, "truncated": result.truncated, "error": result.error}


async def enabled_actions(db: Database, workspace_id: str, bot_id: str, action_ids: list[str]) -> list[Action]:
    """The bot's enabled actions among those picked, in the order picked."""
    if not action_ids:
        return []
    async with db.read() as conn:
        found = {a.id: a for a in await repo.list_actions(conn, workspace_id, bot_id) if a.enabled}
    return [found[i] for i in action_ids if i in found]


async def tool_ref_problems(db: Database, workspace_id: str, bot_id: str | None, tools: list[dict]) -> list[tuple]:
    """(field, problem) for each picked action that is not one of this bot's (chatbots asks, through app.py)."""
    wanted = [(i, t["id"]) for i, t in enumerate(tools) if t.get("type") == "action"]
    if not wanted:
        return []
    async with db.read() as conn:
        known = {a.id for a in await repo.list_actions(conn, workspace_id, bot_id)} if bot_id else set()
    return [(f"tools[{i}]", "names an action this bot does not have") for i, ref in wanted if ref not in known]
