"""Client addresses: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import pytest

from modelpilot.core.clientip import client_ip_of_scope, resolve_client_ip
from modelpilot.settings import _networks

PROXIES = _networks("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    # no trusted proxies configured: the header is ignored, whatever it says
    ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),
    # an untrusted peer cannot pick its address by sending the header
    ("203.0.113.9", "1.2.3.4", PROXIES, "203.0.113.9"),
    # behind our proxy: the hop the proxy appended
    ("127.0.0.1", "198.51.100.7", PROXIES, "198.51.100.7"),
    # a client-supplied entry further left is not believed
    ("127.0.0.1", "1.2.3.4, 198.51.100.7", PROXIES, "198.51.100.7"),
    # a chain of trusted proxies is walked through
    ("127.0.0.1", "198.51.100.7, 10.1.2.3", PROXIES, "198.51.100.7"),
    # all hops trusted: the furthest one we can vouch for is the peer itself
    ("127.0.0.1", "10.1.2.3", PROXIES, "127.0.0.1"),
    # garbage in the header: fall back to the peer
    ("127.0.0.1", "not-an-ip", PROXIES, "127.0.0.1"),
    ("127.0.0.1", "", PROXIES, "127.0.0.1"),
    # IPv6 clients
    ("127.0.0.1", "2001:db8::1", PROXIES, "2001:db8::1"),
])
def test_resolve_client_ip(peer: str, forwarded: str, trusted: tuple, expected: str) -> None:
    assert resolve_client_ip(peer, forwarded, trusted) == expected


def test_several_forwarded_lines_are_one_list() -> None:
    """A client's own X-Forwarded-For line must not hide the line our proxy added after it."""
    scope = {"type": "http", "client": ("127.0.0.1", 5000),
             "headers": [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.7")]}
    assert client_ip_of_scope(scope, PROXIES) == "198.51.100.7"


def test_scope_without_client() -> None:
    assert client_ip_of_scope({"type": "http", "headers": []}, PROXIES) == ""
