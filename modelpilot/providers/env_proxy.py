"""The proxy (and ~/.netrc login) the environment names for a provider's origin, looked up once.

aiohttp's `trust_env` looks both up again on every request, each in a worker thread: two thread
hops, a scan of os.environ and a read of ~/.netrc per chat turn, before the POST leaves and so
before the first byte. The environment is read once for the life of the server (settings are), so
the direct client asks here instead and passes `proxy`, `proxy_auth` and `auth` itself, with the
same answers aiohttp's own helpers give: HTTP(S)_PROXY / NO_PROXY, and netrc's entries for the
proxy and for the provider's host.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.helpers import basicauth_from_netrc, get_env_proxy_for_url, netrc_from_env
from yarl import URL

_found: dict[tuple[str, str], dict[str, Any]] = {}


def _lookup(url: URL) -> dict[str, Any]:
    """What trust_env would add to a request to `url` (blocking: it may read ~/.netrc)."""
    options: dict[str, Any] = {}
    try:
        options["proxy"], options["proxy_auth"] = get_env_proxy_for_url(url)
    except LookupError:
        pass
    netrc = netrc_from_env()
    if netrc is not None and url.host is not None:
        try:
            options["auth"] = basicauth_from_netrc(netrc, url.host)
        except LookupError:
            pass
    return options


async def request_options(url: str) -> dict[str, Any]:
    """proxy / proxy_auth / auth for a request to `url`, from the environment (each origin once).
    `auth` (a netrc login) is only for a request that sets no Authorization header of its own:
    aiohttp refuses both at once."""
    target = URL(url)
    key = (target.scheme, target.host or "")
    options = _found.get(key)
    if options is None:
        options = _found[key] = await asyncio.to_thread(_lookup, target)
    return options


def with_env_options(request: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The request's keyword arguments with the environment's proxy and login added."""
    added = {k: v for k, v in options.items() if k != "auth" or "Authorization" not in request["headers"]}
    return {**request, **added} if added else request

