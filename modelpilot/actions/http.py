"""Running one HTTP action: the request built from its templates, sent through the SSRF guard.

Every request goes through core/safe_http's guarded transport (private, loopback and
link-local addresses refused unless MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true; no redirects
followed, so an answer cannot send the sealed headers on to another host), within the action's
timeout, reading at most its response size cap. Sealed header values are opened only here, for
the request itself, and any echo of them in the answer or an error is blanked before the text
goes anywhere (the model, the conversation log, the API).
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass

import anyio
import httpx

from modelpilot.actions.arguments import fill_body, fill_url
from modelpilot.core.safe_http import AddressPolicy, FetchError, check_url, guarded_transport

USER_AGENT = "ModelPilot-Actions/1.0"
EXCERPT_CHARS = 1000
REFUSAL_HINT = ("An administrator can allow private addresses for webhooks, actions and MCP servers with "
                "MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true.")
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[bool, httpx.AsyncClient]]" = (
    weakref.WeakKeyDictionary())


@dataclass(frozen=True)
class ActionRequest:
    method: str
    url: str
    headers: dict  # opened values: never log this object
    body: object = None
    timeout_s: float = 10.0
    max_bytes: int = 32_768


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    status: int | None
    latency_ms: int
    text: str            # what the model reads (capped at the action's size)
    error: str | None = None
    truncated: bool = False

    @property
    def excerpt(self) -> str:
        return self.text[:EXCERPT_CHARS]


def build_request(method: str, url_template: str, body_template: object, headers: dict, arguments: dict,
                  claims: dict, timeout_s: float, max_bytes: int) -> ActionRequest:
    body = None if body_template is None else fill_body(body_template, arguments, claims)
    return ActionRequest(method, fill_url(url_template, arguments, claims), headers, body, timeout_s, max_bytes)


def client_for(allow_private: bool) -> httpx.AsyncClient:
    """One client (and connection pool) per event loop and policy, reused by every action call."""
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    client = clients.get(allow_private)
    if client is None or client.is_closed:
        policy = AddressPolicy(allow_private, refusal_hint=REFUSAL_HINT)
        client = httpx.AsyncClient(transport=guarded_transport(policy), follow_redirects=False, trust_env=False,
                                   headers={"User-Agent": USER_AGENT})
        clients[allow_private] = client
    return client


async def close_clients() -> None:
    for client in _clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


async def send(request: ActionRequest, allow_private: bool) -> ActionResult:
    started = time.monotonic()
    secrets = [value for value in request.headers.values() if value]
    try:
        check_url(request.url)
        with anyio.fail_after(request.timeout_s):
            status, raw, truncated = await _exchange(client_for(allow_private), request)
    except TimeoutError:
        return _failed(started, f"no answer within {request.timeout_s:g} s")
    except FetchError as exc:
        return _failed(started, scrub(exc.message, secrets))
    except httpx.TimeoutException:
        return _failed(started, f"no answer within {request.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return _failed(started, scrub(f"could not connect: {exc or type(exc).__name__}", secrets))
    text = scrub(raw.decode("utf-8", "replace").replace("\x00", "\ufffd"), secrets)
    ok = 200 <= status < 300
    return ActionResult(ok, status, _ms(started), text, None if ok else f"the service answered HTTP {status}",
                        truncated)


async def _exchange(client: httpx.AsyncClient, request: ActionRequest) -> tuple[int, bytes, bool]:
    content = None
    headers = dict(request.headers)
    if request.body is not None:
        content = json.dumps(request.body).encode()
        headers.setdefault("Content-Type", "application/json")
    timeout = httpx.Timeout(request.timeout_s, connect=min(5.0, request.timeout_s))
    async with client.stream(request.method, request.url, content=content, headers=headers,
                             timeout=timeout) as response:
        taken, truncated = bytearray(), False
        async for part in response.aiter_bytes():
            taken += part
            if len(taken) > request.max_bytes:
                truncated = True
                break  # the rest is never read: the connection is dropped
        return response.status_code, bytes(taken[:request.max_bytes]), truncated


def _failed(started: float, error: str) -> ActionResult:
    return ActionResult(False, None, _ms(started), "", error)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
