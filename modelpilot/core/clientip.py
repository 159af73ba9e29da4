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


# Headers a reverse proxy adds: a request carrying one was relayed, whatever its peer address.
FORWARDING_HEADERS = {b"x-forwarded-for", b"x-forwarded-host", b"x-real-ip", b"forwarded"}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def host_name(host_header: str) -> str:
    """'Chat.Example.com:8443' -> 'chat.example.com'; '[::1]:8000' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_host(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    addr = _parse(name)
    return addr is not None and addr.is_loopback


def is_local_request(scope: Scope, trusted_proxies: Iterable) -> bool:
    """Sent from this machine itself, not relayed by a proxy on it: the peer and the client are
    loopback, no forwarding header is present and the Host is a loopback name (or absent).
    A proxy in front reaches us from 127.0.0.1 too; its headers are what give it away."""
    headers = scope.get("headers", [])
    if any(key.lower() in FORWARDING_HEADERS for key, _ in headers):
        return False
    client = scope.get("client")
    peer = _parse(client[0]) if client else None
    if peer is None or not peer.is_loopback:
        return False
    resolved = _parse(client_ip_of_scope(scope, trusted_proxies))
    if resolved is None or not resolved.is_loopback:
        return False
    host = next((value.decode("latin-1") for key, value in headers if key.lower() == b"host"), "")
    return not host or is_loopback_host(host_name(host))
