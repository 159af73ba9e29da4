"""The one way to fetch an outside URL (SSRF-safe).

Every TCP connection goes through AddressGuardBackend: it resolves the host itself, refuses the
whole name if any address is not public, connects to a validated IP (never re-resolving, so a
DNS answer cannot change between check and use), and checks the peer address of the socket it
got. TLS still verifies the certificate and sends SNI for the original host name, and the Host
header comes from the URL. Redirects are followed by hand, one hop at a time, each through the
same guard. Proxies from the environment are ignored: a proxy would make the check meaningless.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

USER_AGENT = "ModelPilotBot/0.1 (+self-hosted knowledge ingestion; respects robots.txt)"
REDIRECT_CODES = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """A fetch that failed for a reason a user can act on; `transient` ones are worth retrying."""

    def __init__(self, code: str, message: str, *, transient: bool = False, url: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.transient, self.url = code, message, transient, url


def is_public_address(ip: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public_address(ip.ipv4_mapped)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def refusal_for(host: str) -> str | None:
    """Why a literal IP host is refused before any connection, or None (names need resolving)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return None if is_public_address(ip) else f"{host} is a private, loopback or link-local address"


# Only "try again" from the resolver is worth retrying; a name that does not exist stays so.
_TRANSIENT_DNS = {getattr(socket, "EAI_AGAIN", -3)}


async def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in _TRANSIENT_DNS:
            raise FetchError("dns_error", f"Could not look up {host} right now ({exc.strerror or exc})",
                             transient=True) from None
        raise FetchError("dns_error", f"The address {host} does not exist (DNS lookup failed: "
                         f"{exc.strerror or exc}). Check the spelling of the URL.") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    # Addresses treated as public (tests run everything on 127.0.0.1 and need one "public" host).
    trusted: frozenset = frozenset()
    # The sentence that tells an operator which setting allows such addresses.
    refusal_hint: str = ("An administrator can allow intranet sources with "
                         "MODELPILOT_INGEST_ALLOW_PRIVATE=1.")

    def allows(self, ip: IPAddress) -> bool:
        return self.allow_private or ip in self.trusted or is_public_address(ip)


class AddressGuardBackend(httpcore.AsyncNetworkBackend):
    """`inner` is the real network backend: httpcore's by default, or httpcore2's for httpx2
    clients (the mcp SDK's); `connect_errors` are that backend's "try the next address" errors."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver, inner=None,
                 connect_errors: tuple[type[Exception], ...] = (httpcore.ConnectError, httpcore.ConnectTimeout)) -> None:
        self._inner = inner or httpcore.AnyIOBackend()
        self._policy, self._resolver, self._connect_errors = policy, resolver, connect_errors

    async def _validated_addresses(self, host: str, port: int) -> list[str]:
        addresses = [host.strip("[]")] if _is_ip(host) else await self._resolver(host, port)
        if not addresses:
            raise FetchError("dns_error", f"The address {host} has no IP address (DNS). Check the URL.")
        for address in addresses:
            if not self._policy.allows(ipaddress.ip_address(address)):
                raise FetchError("blocked_address", f"Refused to connect to {host}: it resolves to {address}, "
                                 f"a private, loopback or link-local address. {self._policy.refusal_hint}")
        return addresses

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable | None = None):
        last_error: Exception | None = None
        for address in await self._validated_addresses(host, port):
            try:
                stream = await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                       socket_options=socket_options)
            except self._connect_errors as exc:
                last_error = exc
                continue
            peer = stream.get_extra_info("server_addr")[0]
            if not self._policy.allows(ipaddress.ip_address(peer)):
                await stream.aclose()
                raise FetchError("blocked_address", f"Refused: {host} connected to non-public {peer}")
            return stream
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise FetchError("bad_scheme", "Unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: AddressGuardBackend) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx has no public switch for the network backend; its pool is rebuilt around ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=10,
            max_keepalive_connections=5, keepalive_expiry=5.0, http1=True, http2=False,
            retries=0, network_backend=backend)


def guarded_transport(policy: AddressPolicy, resolver: Resolver = system_resolver) -> httpx.AsyncBaseTransport:
    """An httpx transport whose every connection passes the address check of `policy`."""
    return _GuardedTransport(AddressGuardBackend(policy, resolver))


def guarded_transport_httpx2(policy: AddressPolicy, resolver: Resolver = system_resolver,
                             max_response_bytes: int | None = None):
    """The same guard for an httpx2 client (the transport the mcp SDK speaks through): every
    connection checked by `policy`, no proxies from the environment, and, with
    `max_response_bytes`, each response body cut off with FetchError("too_large") past that size
    (the SDK reads JSON answers whole, so the cap must sit below it). httpx2 is imported here,
    not at the top: only MCP calls need it."""
    import httpcore2

    ssl_context = _httpx2_ssl_context()
    transport = _httpx2_transport_class()(max_response_bytes, ssl_context)
    backend = AddressGuardBackend(policy, resolver, inner=httpcore2.AnyIOBackend(),
                                  connect_errors=(httpcore2.ConnectError, httpcore2.ConnectTimeout))
    # As _GuardedTransport: httpx2 has no public switch for the network backend either.
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=ssl_context, max_connections=10, max_keepalive_connections=5,
        keepalive_expiry=5.0, http1=True, http2=False, retries=0, network_backend=backend)
    return transport


@functools.cache
def _httpx2_ssl_context():
    """One verifying context for every httpx2 client: loading the CA bundle takes ~30 ms, and a
    client is made per MCP operation. Contexts are safe to share between connections."""
    import httpx2

    return httpx2.create_ssl_context(trust_env=False)


@functools.cache
def _httpx2_transport_class():
    import httpx2

    class CappedStream(httpx2.AsyncByteStream):
        def __init__(self, inner, url: str, limit: int) -> None:
            self._inner, self._url, self._limit = inner, url, limit

        async def __aiter__(self):
            total = 0
            async for part in self._inner:
                total += len(part)
                if total > self._limit:
                    raise FetchError("too_large", f"{self._url} sent more than {self._limit} bytes", url=self._url)
                yield part

        async def aclose(self) -> None:
            await self._inner.aclose()

    class GuardedTransport2(httpx2.AsyncHTTPTransport):
        def __init__(self, max_response_bytes: int | None, ssl_context) -> None:
            super().__init__(verify=ssl_context, trust_env=False, retries=0)
            self._limit = max_response_bytes

        async def handle_async_request(self, request):
            response = await super().handle_async_request(request)
            if self._limit is None:
                return response
            url = str(request.url.copy_with(query=None))
            return httpx2.Response(response.status_code, headers=response.headers, extensions=response.extensions,
                                   stream=CappedStream(response.stream, url, self._limit))

    return GuardedTransport2


@dataclass
class FetchedPage:
    url: str             # final URL after redirects
    status: int
    content_type: str
    content: bytes
    redirects: list[str] = field(default_factory=list)


@dataclass
class SafeFetcher:
    allow_private: bool = False
    max_bytes: int = 10_000_000
    timeout_seconds: float = 30.0
    connect_timeout: float = 5.0
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    resolver: Resolver = system_resolver
    trusted_addresses: frozenset = frozenset()
    extra_headers: dict = field(default_factory=dict)  # e.g. a provider key; pair with max_redirects=0

    def _client(self) -> httpx.AsyncClient:
        policy = AddressPolicy(self.allow_private, frozenset(ipaddress.ip_address(a) for a in self.trusted_addresses))
        timeout = httpx.Timeout(self.timeout_seconds, connect=self.connect_timeout)
        return httpx.AsyncClient(transport=_GuardedTransport(AddressGuardBackend(policy, self.resolver)),
                                 timeout=timeout, follow_redirects=False, trust_env=False,
                                 headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                                          **self.extra_headers})

    async def fetch(self, url: str, *, accept: str = "*/*") -> FetchedPage:
        """GET url (following redirects safely); raises FetchError with a plain message."""
        check_url(url)
        try:
            with anyio.fail_after(self.timeout_seconds):
                async with self._client() as client:
                    return await self._follow(client, url, accept)
        except TimeoutError:
            raise FetchError("timeout", f"{url} did not answer within {self.timeout_seconds:g} s",
                             transient=True, url=url) from None

    async def _follow(self, client: httpx.AsyncClient, url: str, accept: str) -> FetchedPage:
        seen: list[str] = []
        while True:
            if url in seen:
                raise FetchError("redirect_loop", f"{seen[0]} redirects in a loop", url=seen[0])
            if len(seen) > self.max_redirects:
                raise FetchError("too_many_redirects", f"{seen[0]} redirects more than {self.max_redirects} times",
                                 url=seen[0])
            seen.append(url)
            page = await self._get_once(client, url, accept)
            if page.status in REDIRECT_CODES and page.url:
                url = page.url
                check_url(url)
                continue
            page.redirects = seen[:-1]
            return page

    async def _get_once(self, client: httpx.AsyncClient, url: str, accept: str) -> FetchedPage:
        try:
            async with client.stream("GET", url, headers={"Accept": accept}) as response:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location", "")
                    if not location:
                        raise FetchError("bad_redirect", f"{url} redirects without a Location", url=url)
                    return FetchedPage(urljoin(url, location), response.status_code, "", b"")
                _raise_for_status(url, response.status_code)
                body = await self._read_capped(response, url)
                return FetchedPage(str(response.url), response.status_code,
                                   response.headers.get("content-type", ""), body)
        except httpx.TimeoutException:
            raise FetchError("timeout", f"{url} did not answer in time", transient=True, url=url) from None
        except httpx.ConnectError as exc:
            raise connect_failure(url, exc) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise FetchError("connect_error", f"Could not fetch {url}: {exc}", transient=True, url=url) from None
        except httpx.DecodingError:
            raise FetchError("bad_encoding", f"{url} sent a body that could not be decoded", url=url) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError) as exc:  # e.g. a host idna refuses
            raise FetchError("bad_url", f"Could not fetch {url}: {exc}", url=url) from None

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError("too_large", f"{url} is larger than the {self.max_bytes // 1_000_000} MB limit", url=url)
        parts, total = [], 0
        # aiter_bytes decompresses: the cap holds for the decoded size, so a gzip bomb stops here.
        async for part in response.aiter_bytes():
            total += len(part)
            if total > self.max_bytes:
                raise FetchError("too_large", f"{url} is larger than the {self.max_bytes // 1_000_000} MB limit",
                                 url=url)
            parts.append(part)
        return b"".join(parts)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def connect_failure(url: str, exc: httpx.ConnectError) -> FetchError:
    """Why a connection failed, and whether trying again could help: a refused port or a bad
    certificate stays that way, so those fail at once instead of after minutes of retries."""
    host = urlsplit(url).netloc
    text = " ".join(str(cause) for cause in _causes(exc))
    if any(isinstance(cause, ssl.SSLError) for cause in _causes(exc)) or "CERTIFICATE_VERIFY_FAILED" in text:
        detail = "its certificate is not valid" if "CERTIFICATE" in text.upper() else "the TLS handshake failed"
        return FetchError("tls_error", f"The secure connection to {host} failed: {detail} (TLS error).", url=url)
    if any(isinstance(cause, ConnectionRefusedError) for cause in _causes(exc)) or "refused" in text.lower():
        return FetchError("connection_refused", f"Nothing answers at {host} (connection refused). Check the "
                          "address and port, and that the site is up.", url=url)
    return FetchError("connect_error", f"Could not connect to {host}: {exc}", transient=True, url=url)


HTTP_REASONS = {401: "login required", 403: "access forbidden", 404: "page not found", 410: "page gone",
                429: "too many requests", 500: "server error", 502: "bad gateway", 503: "service unavailable",
                504: "gateway timeout"}


def _raise_for_status(url: str, status: int) -> None:
    if status < 400:
        return
    transient = status in {408, 425, 429} or status >= 500
    reason = f" ({HTTP_REASONS[status]})" if status in HTTP_REASONS else ""
    raise FetchError("http_status", f"{url} answered HTTP {status}{reason}", transient=transient, url=url)


_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]*))*\.?$", re.IGNORECASE)


def host_problem(host: str) -> str | None:
    """Why a host name cannot be fetched safely, or None. Numbers in any spelling but the plain
    dotted quad (0177.0.0.1 octal, 127.000.000.001, 2130706433, 0x7f.1) are read differently by
    different resolvers, and non-ASCII look-alikes (①②⑦.0.0.1, full-width digits) fold to an
    address only after our check: both are refused rather than guessed at."""
    if not host.isascii():
        folded = unicodedata.normalize("NFKC", host)
        if folded != host and (folded.isascii() and _NUMERIC_HOST.match(folded)):
            return f"the host {host!r} spells an IP address in look-alike characters; write it as {folded}"
        try:
            host.encode("idna")
        except UnicodeError:
            return f"the host {host!r} is not a valid domain name"
        return None
    if _NUMERIC_HOST.match(host) and not _is_ip(host):
        return f"the host {host} is an IP address in a non-standard form; write it as four decimal numbers"
    return None


def check_url(url: str) -> None:
    """Scheme and literal-address checks that need no network; raises FetchError."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise FetchError("bad_url", "The URL cannot be parsed", url=url) from None
    if parts.scheme not in {"http", "https"}:
        raise FetchError("bad_scheme", "Only http and https URLs can be fetched", url=url)
    if not host:
        raise FetchError("bad_url", "The URL has no host name", url=url)
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched", url=url)
    problem = host_problem(host)
    if problem:
        raise FetchError("bad_url", f"Not fetched: {problem}", url=url)
    try:
        httpx.URL(url)  # the client's own parser (IDNA 2008): what it refuses later, refuse now
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise FetchError("bad_url", f"Not fetched: the URL is not valid ({exc})", url=url) from None


def clean_outbound_url(url: str, *, allow_private: bool, max_chars: int = 2000) -> str:
    """A user-configured URL the server will call (webhooks, MCP servers), checked on save: 400
    naming `url` when it is empty, too long, unusable, or a private address this instance refuses."""
    from modelpilot.core.errors import invalid

    url = url.strip()
    if not url:
        raise invalid("url", "must not be empty")
    if len(url) > max_chars:
        raise invalid("url", f"must be at most {max_chars} characters")
    try:
        check_url(url)
    except FetchError as exc:
        raise invalid("url", f"is not usable: {exc.message}") from None
    refusal = None if allow_private else refusal_for(urlsplit(url).hostname or "")
    if refusal:
        raise invalid("url", f"is refused: {refusal}. An administrator of this instance can allow private "
                             "addresses with MODELPILOT_OUTBOUND_ALLOW_PRIVATE=true")
    return url
