"""The SSRF-safe fetcher: what it refuses, and that the refusal holds for names and redirects."""

from __future__ import annotations

import asyncio

import pytest

from modelpilot.core.safe_http import FetchError, SafeFetcher, is_public_address, refusal_for
from tests.knowledge.fixtures import Site, never_answers


def fetch(fetcher: SafeFetcher, url: str):
    return asyncio.run(fetcher.fetch(url))


def resolver_for(mapping: dict[str, str]):
    async def resolve(host: str, port: int) -> list[str]:
        return [mapping[host]]
    return resolve


def refused(fetcher: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(fetcher, url)
    return caught.value


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.10", "172.16.0.5",
                                     "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_non_public_addresses_are_not_public(address) -> None:
    assert refusal_for(address) is not None


def test_public_addresses_pass() -> None:
    import ipaddress
    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert refusal_for("example.com") is None  # names are judged after resolving


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/"])
def test_literal_private_urls_are_refused_before_connecting(url) -> None:
    error = refused(SafeFetcher(connect_timeout=1), url)
    assert error.code == "blocked_address" and "MODELPILOT_INGEST_ALLOW_PRIVATE" in error.message


@pytest.mark.parametrize("target", ["127.0.0.1", "10.0.0.1", "169.254.169.254"])
def test_a_name_resolving_to_a_private_address_is_refused(target) -> None:
    fetcher = SafeFetcher(resolver=resolver_for({"innocent.example": target}), connect_timeout=1)
    assert refused(fetcher, "http://innocent.example/").code == "blocked_address"


def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]
    assert refused(SafeFetcher(resolver=resolve), "http://mixed.example/").code == "blocked_address"


def test_real_localhost_name_is_refused(site: Site) -> None:
    site.html("/", "<p>secret</p>")
    assert refused(SafeFetcher(), f"http://localhost:{site.port}/").code == "blocked_address"
    assert site.hits == {}


def test_redirect_from_public_name_to_private_address_is_refused(site: Site) -> None:
    # 127.0.0.1 plays the public internet here; 127.0.0.2 and 10.0.0.1 are the private targets.
    site.redirect("/to-loopback", f"http://127.0.0.2:{site.port}/secret")
    site.redirect("/to-metadata", "http://metadata.internal/latest")
    site.html("/secret", "<p>secret</p>")
    fetcher = SafeFetcher(resolver=resolver_for({"public.example": "127.0.0.1", "metadata.internal": "169.254.169.254"}),
                          trusted_addresses=frozenset({"127.0.0.1"}))
    assert refused(fetcher, f"http://public.example:{site.port}/to-loopback").code == "blocked_address"
    assert refused(fetcher, f"http://public.example:{site.port}/to-metadata").code == "blocked_address"
    assert "/secret" not in site.hits


def test_allowed_fetch_sends_host_header_and_follows_safe_redirects(site: Site) -> None:
    site.redirect("/old", "/new", 301)
    site.routes["/new"] = lambda h: (200, {"Content-Type": "text/plain"}, h.headers["Host"].encode())
    fetcher = SafeFetcher(resolver=resolver_for({"docs.example": "127.0.0.1"}), trusted_addresses=frozenset({"127.0.0.1"}))
    page = fetch(fetcher, f"http://docs.example:{site.port}/old")
    assert page.content == f"docs.example:{site.port}".encode()
    assert page.url.endswith("/new") and page.redirects == [f"http://docs.example:{site.port}/old"]


def test_allow_private_setting_opens_intranet_sources(site: Site) -> None:
    site.html("/", "<p>intranet</p>")
    assert b"intranet" in fetch(SafeFetcher(allow_private=True), f"{site.base}/").content


def test_redirect_loop_and_too_many_redirects(site: Site) -> None:
    site.redirect("/a", "/b")
    site.redirect("/b", "/a")
    for i in range(10):
        site.redirect(f"/hop{i}", f"/hop{i + 1}")
    fetcher = SafeFetcher(allow_private=True, max_redirects=5)
    assert refused(fetcher, f"{site.base}/a").code == "redirect_loop"
    assert refused(fetcher, f"{site.base}/hop0").code == "too_many_redirects"


def test_a_server_that_never_answers_times_out(site: Site) -> None:
    site.routes["/slow"] = never_answers
    error = refused(SafeFetcher(allow_private=True, timeout_seconds=0.5), f"{site.base}/slow")
    assert error.code == "timeout" and error.transient


def test_size_cap_holds_with_and_without_content_length(site: Site) -> None:
    site.html("/big", "x" * 5000)
    def chunked(handler):
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for _ in range(10):
            handler.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
        return None
    site.routes["/stream"] = chunked
    fetcher = SafeFetcher(allow_private=True, max_bytes=2000)
    assert refused(fetcher, f"{site.base}/big").code == "too_large"
    assert refused(fetcher, f"{site.base}/stream").code == "too_large"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x/", "http://user:pw@example.com/"])
def test_only_plain_http_urls(url) -> None:
    assert refused(SafeFetcher(), url).code in {"bad_scheme", "bad_url"}


def test_server_errors_are_transient_and_client_errors_are_not(site: Site) -> None:
    site.routes["/down"] = (503, {}, b"")
    site.routes["/gone"] = (404, {}, b"")
    fetcher = SafeFetcher(allow_private=True)
    assert refused(fetcher, f"{site.base}/down").transient
    assert not refused(fetcher, f"{site.base}/gone").transient
