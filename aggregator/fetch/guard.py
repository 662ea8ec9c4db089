"""The address guard: only http/https, and only public addresses unless allowed explicitly.

Two layers:

* ``check_url`` looks at the URL before anything is sent: the scheme, and host spellings
  that are numbers in disguise (``2130706433``, ``127.1``, ``0x7f.1``) or IP literals that
  are not public.
* ``GuardedBackend`` is an httpcore network backend that resolves the host name itself,
  checks every resolved address, and connects to that exact address. The check happens at
  connection time, for every hop of a redirect chain, so DNS rebinding cannot slip past it.

``classify_ip`` is pure: tests call it on any address as data, without a socket.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from aggregator.errors import BlockedURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOWED_SCHEMES = ("http", "https")

_V4_BLOCKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified/this network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
)
_V6_BLOCKS: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("::ffff:0:0:0/96", "IPv4-translated"),
    ("::/96", "IPv4-compatible"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "NAT64 (local)"),
    ("100::/64", "discard"),
    ("2001::/32", "Teredo"),
    ("2001:db8::/32", "documentation"),
    ("2001:10::/28", "ORCHID"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "SRv6"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_BLOCKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in (*_V4_BLOCKS, *_V6_BLOCKS)
)


def classify_ip(address: str | IPAddress) -> str | None:
    """Why ``address`` is not a public address (e.g. "loopback"), or None if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str)
                                  else address)
    except ValueError:
        return "not an IP address"
    for net, why in _BLOCKS:
        if ip.version == net.version and ip in net:
            return why
    if not ip.is_global:  # anything else Python knows to be special-purpose
        return "not globally routable"
    return None


def parse_allowed(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


@functools.lru_cache(maxsize=4096)
def ip_allowed(address: str, allowed: tuple[IPNetwork, ...]) -> str | None:
    """None if a connection to ``address`` may be made, else the reason it may not."""
    why = classify_ip(address)
    if why is None:
        return None
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    return f"{why} address {address}"


def _numeric_label(label: str) -> bool:
    """A label the WHATWG IPv4 parser reads as a number: decimal, 0x-hex or 0-octal."""
    lab = label.lower()
    if lab.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lab[2:])
    return lab.isdigit()


def check_host(host: str, allowed: tuple[IPNetwork, ...]) -> None:
    """Refuse numeric disguises and non-public IP literals. Raises BlockedURLError."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        raise BlockedURLError("URL has no host")
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        ip = None
    if ip is not None:
        if "%" in host:
            raise BlockedURLError(f"scoped IPv6 address {host} not allowed")
        why = ip_allowed(str(ip), allowed)
        if why:
            raise BlockedURLError(f"refused {why}")
        return
    labels = host.split(".")
    if labels and _numeric_label(labels[-1]):
        # 2130706433, 127.1, 0x7f.1, 017700000001: browsers and resolvers read these as
        # IPv4 addresses; only the canonical dotted quad is accepted.
        raise BlockedURLError(f"refused numeric host {host!r} (not a canonical IPv4 address)")


def check_url(url: httpx.URL, allowed: tuple[IPNetwork, ...]) -> None:
    if url.scheme not in ALLOWED_SCHEMES:
        raise BlockedURLError(f"scheme {url.scheme or '(none)'!r} not allowed (http/https only)",
                              url=str(url))
    try:
        check_host(url.host, allowed)
    except BlockedURLError as exc:
        exc.url = str(url)
        raise


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in seen:
            seen.append(addr)
    return seen


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, then connect to exactly the checked address."""

    def __init__(self, allowed: tuple[IPNetwork, ...], resolver: Resolver | None = None,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allowed = allowed
        self.resolver = resolver or system_resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        check_host(host, self.allowed)
        try:
            ipaddress.ip_address(host.strip("[]"))
            addresses = [host.strip("[]")]
        except ValueError:
            try:
                async with asyncio.timeout(timeout):
                    addresses = await self.resolver(host, port)
            except TimeoutError:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        usable = [a for a in addresses if ip_allowed(a, self.allowed) is None]
        if not usable:
            why = ip_allowed(addresses[0], self.allowed)
            raise BlockedURLError(f"{host} resolves to {why}")
        # Only checked addresses are ever connected to; refused ones in a mixed answer are
        # dropped (a DNS answer cannot steer the connection past the check).
        addresses = usable
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        raise BlockedURLError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


@contextlib.contextmanager
def _httpx_errors() -> typing.Iterator[None]:
    """Translate httpcore's exceptions into httpx's (what httpx's own transport does)."""
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            with _httpx_errors():
                await aclose()


@functools.cache
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """One TLS context per process (loading the CA bundle costs ~0.2 s), made on first use."""
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections all go through the GuardedBackend.

    One small httpcore connection pool per origin: a poll of hundreds of hosts then costs
    O(1) pool bookkeeping per request instead of scanning every idle connection. At most
    ``max_origins`` pools are kept; the least recently used idle ones are closed.
    Proxies are never used (a proxy would connect on our behalf, past the guard).
    """

    def __init__(self, allow_private: Iterable[str] = (), *, resolver: Resolver | None = None,
                 verify: bool | ssl.SSLContext = True, per_origin: int = 4,
                 max_origins: int = 256,
                 keepalive_expiry: float = 15.0) -> None:
        self.allowed = parse_allowed(allow_private)
        self.backend = GuardedBackend(self.allowed, resolver)
        self._verify = verify
        self._per_origin = per_origin
        self._max_origins = max_origins
        self._keepalive_expiry = keepalive_expiry
        self._pools: collections.OrderedDict[tuple[bytes, bytes, int | None],
                                             httpcore.AsyncConnectionPool] = (
            collections.OrderedDict())

    def _pool(self, key: tuple[bytes, bytes, int | None]) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._tls_context() if key[0] == b"https" else None,
            max_connections=None,
            max_keepalive_connections=self._per_origin,
            keepalive_expiry=self._keepalive_expiry, network_backend=self.backend,
        )
        self._pools[key] = pool
        return pool

    def _tls_context(self) -> ssl.SSLContext:
        if isinstance(self._verify, ssl.SSLContext):
            return self._verify
        return _ssl_context(self._verify)

    async def _evict(self) -> None:
        if len(self._pools) <= self._max_origins:
            return
        for key in list(self._pools)[: len(self._pools) - self._max_origins]:
            pool = self._pools[key]
            if all(conn.is_idle() for conn in pool.connections):
                del self._pools[key]
                await pool.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        await self._evict()  # before taking this request's pool, so it is never the one closed
        pool = self._pool((url.raw_scheme, url.raw_host, url.port))
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port,
                             target=url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions,
        )
        with _httpx_errors():
            resp = await pool.handle_async_request(req)
        assert isinstance(resp.stream, typing.AsyncIterable)
        return httpx.Response(status_code=resp.status, headers=resp.headers,
                              stream=_ResponseStream(resp.stream), extensions=resp.extensions)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), collections.OrderedDict()
        for pool in pools:
            await pool.aclose()
