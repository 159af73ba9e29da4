"""The client's address: the peer, or X-Forwarded-For only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from typing import Iterable

from litestar.connection import ASGIConnection
from litestar.types import Scope


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def resolve_client_ip(peer: str, forwarded_for: str, trusted_proxies: Iterable) -> str:
    """The peer, unless it is a trusted proxy: then the nearest X-Forwarded-For hop not trusted."""
    networks = tuple(trusted_proxies)
    peer_addr = _parse(peer)
    if not networks or peer_addr is None or not any(peer_addr in net for net in networks):
        return peer
    # Walk from the nearest hop outwards; the first address that is not a trusted proxy is
    # the client. Entries further left are client-supplied and cannot be believed.
    for item in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        addr = _parse(item)
        if addr is None:
            return peer
        if not any(addr in net for net in networks):
            return str(addr)
    return peer


def client_ip(connection: ASGIConnection, trusted_proxies: Iterable) -> str:
    return client_ip_of_scope(connection.scope, trusted_proxies)


def client_ip_of_scope(scope: Scope, trusted_proxies: Iterable) -> str:
    """The same, for ASGI middleware that has only the scope."""
    client = scope.get("client")
    peer = client[0] if client else ""
    # Several X-Forwarded-For lines are one list in order (RFC 9110 5.3); reading only the
    # first line would let a client's own header hide the hop our proxy appended.
    forwarded = ", ".join(value.decode("latin-1") for key, value in scope.get("headers", [])
                          if key.lower() == b"x-forwarded-for")
    return resolve_client_ip(peer, forwarded, trusted_proxies)
