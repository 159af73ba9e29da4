"""The client's address: the peer, or X-Forwarded-For only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from typing import Iterable

from litestar.connection import ASGIConnection


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(connection: ASGIConnection, trusted_proxies: Iterable) -> str:
    peer = connection.client.host if connection.client else ""
    networks = tuple(trusted_proxies)
    peer_addr = _parse(peer)
    if not networks or peer_addr is None or not any(peer_addr in net for net in networks):
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    # Walk from the nearest hop outwards; the first address that is not a trusted proxy is
    # the client. Entries further left are client-supplied and cannot be believed.
    for item in reversed([part for part in forwarded.split(",") if part.strip()]):
        addr = _parse(item)
        if addr is None:
            return peer
        if not any(addr in net for net in networks):
            return str(addr)
    return peer
