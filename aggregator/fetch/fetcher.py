"""The Fetcher: one httpx.AsyncClient behind the address guard, with politeness (robots.txt,
per-host concurrency and delay, Retry-After), retries, and limits on every response."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import httpx

from aggregator.errors import (
    BadContent,
    BlockedURLError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
    TransportError,
    UnsupportedContent,
)
from aggregator.fetch.backoff import parse_retry_after, retry_delay
from aggregator.fetch.body import read_body, read_prefix
from aggregator.fetch.guard import GuardedTransport, check_url, parse_allowed
from aggregator.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache
from aggregator.fetch.settings import FetchSettings
from aggregator.models import Page

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "application/feed+json", "application/json", "application/x-rss+xml",
    "application/x-atom+xml", "text/rss+xml", "text/atom+xml",
}) | HTML_TYPES
#: Types that say little about the body: read it and look.
SNIFF_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": ("application/rss+xml,application/atom+xml,application/feed+json,"
             "application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8,"
             "text/html;q=0.5,*/*;q=0.1"),
    "any": "*/*",
}
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})
#: A host's Retry-After shorter than this is waited out; a longer one fails the request
#: at once with HTTPStatusError(retry_after=...) so the scheduler can come back later.
SHORT_WAIT = 30.0
MAX_CRAWL_DELAY = 60.0


@dataclass
class _Host:
    sem: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    last_start: float | None = None
    blocked_until: float = 0.0
    blocked_status: int = 0
    active: int = 0
    peak: int = 0
    requests: int = 0


@dataclass(frozen=True)
class HostStatus:
    host: str
    active: int  # requests in flight now
    peak: int  # most requests in flight at once so far
    requests: int  # requests started
    delay: float  # current minimum seconds between request starts
    retry_after: float | None  # seconds until the host may be asked again, if it said so
    retry_status: int | None  # the status (429/503) that set retry_after


@dataclass
class _Budget:
    """Seconds left for the requests of one attempt, redirect hops included (time spent
    waiting for a host slot, for politeness, does not count)."""

    seconds: float


@dataclass
class _Response:
    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes = b""
    content_type: str = ""
    charset: str | None = None
    truncated: bool = False  # only the first max_bytes were read (prefix reads)


def _media_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    parts = value.split(";")
    media = parts[0].strip().lower()
    charset = None
    for param in parts[1:]:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("'\"") or None
    return media, charset


def _sniff(content: bytes) -> str | None:
    """A media type guessed from the first bytes, for responses with none or a generic one."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower().replace(b"\x00", b"")
    if head.startswith((b"<rss", b"<feed", b"<rdf:rdf")) or (
            head.startswith(b"<?xml") and any(t in head for t in (b"<rss", b"<feed", b"<rdf"))):
        return "application/xml"
    if any(t in head for t in (b"<!doctype html", b"<html", b"<head", b"<body")):
        return "text/html"
    if head.startswith(b"{") and b"jsonfeed.org" in head:
        return "application/feed+json"
    return None


def _acceptable(media: str, accept: str) -> bool:
    if accept == "any":
        return True
    if accept == "html":
        return media in HTML_TYPES
    return media in FEED_TYPES or media.endswith(("+xml", "+json"))


class Fetcher:
    """Async context manager owning one httpx.AsyncClient; share one per crawl."""

    def __init__(self, settings: FetchSettings | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: random.Random | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings = settings or FetchSettings()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._allowed = parse_allowed(settings.allow_private)
        self._transport = transport or GuardedTransport(
            settings.allow_private, per_origin=max(2, settings.per_host_concurrency))
        self._client = httpx.AsyncClient(
            transport=self._transport, follow_redirects=False, trust_env=False,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        )
        self._hosts: dict[str, _Host] = {}
        self._global = asyncio.Semaphore(settings.max_concurrency)
        self.robots = RobotsCache(self._load_robots, user_agent=settings.user_agent,
                                  ttl=settings.robots_ttl, clock=clock,
                                  on_crawl_delay=self._set_crawl_delay)

    async def __aenter__(self) -> Fetcher:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- public ------------------------------------------------------------------------
    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None, accept: str = "html",
                    robots: bool = True) -> Page:
        """GET ``url`` politely and within limits. Raises a FetchError subclass, with url=."""
        if accept not in ACCEPT_HEADERS:
            raise ValueError(f"accept must be one of {sorted(ACCEPT_HEADERS)}, not {accept!r}")
        try:
            return await self._fetch(url, etag, last_modified, accept, robots)
        except FetchError as exc:
            if exc.url is None:
                exc.url = url
            raise

    def host_state(self, host: str) -> HostStatus | None:
        """What the fetcher knows about ``host`` (None if never contacted)."""
        state = self._hosts.get(host.lower())
        if state is None:
            return None
        remaining = state.blocked_until - self._clock()
        return HostStatus(host.lower(), state.active, state.peak, state.requests, state.delay,
                          remaining if remaining > 0 else None,
                          state.blocked_status if remaining > 0 else None)

    # -- internals ---------------------------------------------------------------------
    async def _fetch(self, url: str, etag: str | None, last_modified: str | None,
                     accept: str, robots: bool) -> Page:
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise BlockedURLError(f"invalid URL: {exc}", url=url) from None
        headers = {"Accept": ACCEPT_HEADERS[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        # One deadline for the whole redirect chain: each hop gets what the earlier ones left.
        budget = _Budget(self.settings.timeout)
        for _hop in range(self.settings.max_redirects + 1):
            check_url(current, self._allowed)
            if robots and self.settings.robots:
                await self.robots.check(str(current))
            resp = await self._with_retries(current, headers, accept, self.settings.max_bytes,
                                            budget)
            if resp.status in REDIRECT_CODES:
                current = self._location(resp)
                continue
            if resp.status == 304 or 200 <= resp.status < 300:
                return Page(
                    url=url, final_url=str(resp.url), status=resp.status, content=resp.content,
                    content_type=resp.content_type, charset=resp.charset,
                    etag=resp.headers.get("etag") or (etag if resp.status == 304 else None),
                    last_modified=resp.headers.get("last-modified")
                    or (last_modified if resp.status == 304 else None),
                    headers=tuple((k.lower(), v) for k, v in resp.headers.multi_items()),
                    fetched=datetime.now(UTC),
                )
            raise HTTPStatusError(f"HTTP {resp.status}", url=str(resp.url), status=resp.status)
        raise TooManyRedirects(f"more than {self.settings.max_redirects} redirects", url=url)

    def _location(self, resp: _Response) -> httpx.URL:
        location = resp.headers.get("location")
        if not location:
            raise HTTPStatusError(f"HTTP {resp.status} without Location", url=str(resp.url),
                                  status=resp.status)
        try:
            target = resp.url.join(location.strip())
        except (httpx.InvalidURL, ValueError) as exc:
            raise BlockedURLError(f"bad redirect Location {location!r}: {exc}",
                                  url=str(resp.url)) from None
        return target

    async def _with_retries(self, url: httpx.URL, headers: dict[str, str], accept: str,
                            max_bytes: int, budget: _Budget) -> _Response:
        """The request, retried on transient errors; a retry is a new attempt with the whole
        deadline again (``budget`` is reset, and what it leaves goes to later hops)."""
        settings = self.settings
        for attempt in range(settings.retries + 1):
            if attempt:
                budget.seconds = settings.timeout
            try:
                resp = await self._request(url, headers, accept, max_bytes, budget=budget)
            except (FetchTimeout, TransportError) as exc:
                if attempt >= settings.retries:
                    raise
                wait = retry_delay(attempt, settings.backoff_base, self._rng)
                del exc
            else:
                if resp.status not in RETRY_STATUSES:
                    return resp
                retry_after = parse_retry_after(resp.headers.get("retry-after"),
                                                datetime.now(UTC),
                                                maximum=settings.max_retry_after)
                last = attempt >= settings.retries
                if resp.status in (429, 503):
                    wait = retry_after if retry_after is not None else retry_delay(
                        attempt, settings.backoff_base, self._rng)
                    self._block(url.host, resp.status, wait)
                    if last or wait > SHORT_WAIT:
                        raise HTTPStatusError(
                            f"HTTP {resp.status}" + (f", retry after {wait:.0f} s"
                                                     if retry_after is not None else ""),
                            url=str(url), status=resp.status, retry_after=retry_after)
                    continue  # the host slot waits out the block
                if last:
                    raise HTTPStatusError(f"HTTP {resp.status} after {attempt + 1} attempts",
                                          url=str(url), status=resp.status,
                                          retry_after=retry_after)
                wait = retry_delay(attempt, settings.backoff_base, self._rng)
            await self._sleep(wait)
        raise AssertionError("unreachable")

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = _Host(asyncio.Semaphore(self.settings.per_host_concurrency),
                          self.settings.per_host_delay)
            self._hosts[host] = state
        return state

    def _block(self, host: str, status: int, seconds: float) -> None:
        state = self._host(host)
        until = self._clock() + seconds
        if until > state.blocked_until:
            state.blocked_until = until
            state.blocked_status = status

    def _set_crawl_delay(self, host: str, delay: float) -> None:
        state = self._host(host)
        state.delay = max(self.settings.per_host_delay, min(delay, MAX_CRAWL_DELAY))
        if state.last_start is not None:
            state.next_start = max(state.next_start, state.last_start + state.delay)

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[_Host]:
        """Hold one of the host's slots and a global slot, respecting delay and Retry-After."""
        state = self._host(host)
        async with state.sem:
            while True:
                now = self._clock()
                if state.blocked_until > now:
                    remaining = state.blocked_until - now
                    if remaining > SHORT_WAIT:
                        raise HTTPStatusError(
                            f"host asked us to wait (HTTP {state.blocked_status}); "
                            f"{remaining:.0f} s left", status=state.blocked_status,
                            retry_after=remaining)
                    await self._sleep(remaining)
                    continue
                if state.next_start > now:
                    await self._sleep(state.next_start - now)
                    continue
                await self._global.acquire()
                now = self._clock()
                if state.next_start > now or state.blocked_until > now:
                    self._global.release()
                    continue
                state.next_start = now + state.delay
                state.last_start = now
                break
            state.active += 1
            state.requests += 1
            state.peak = max(state.peak, state.active)
            try:
                yield state
            finally:
                state.active -= 1
                self._global.release()

    async def _request(self, url: httpx.URL, headers: dict[str, str], accept: str,
                       max_bytes: int, *, prefix: bool = False,
                       budget: _Budget | None = None) -> _Response:
        """One request: slot, then a deadline around send + body (what ``budget`` has left,
        the full timeout without one). ``prefix``: a body over max_bytes is cut there
        instead of failing with TooLarge."""
        timeout = self.settings.timeout
        async with self._slot(url.host):
            phase = "connect"
            loop = asyncio.get_running_loop()
            started = loop.time()
            left = timeout if budget is None else budget.seconds
            try:
                if left <= 0:
                    raise TimeoutError
                async with asyncio.timeout(left):
                    request = self._client.build_request("GET", url, headers=headers)
                    response = await self._client.send(request, stream=True)
                    try:
                        phase = "body"
                        return await self._read(response, url, accept, max_bytes, prefix)
                    finally:
                        await response.aclose()
            except TimeoutError:
                where = "" if left >= timeout else " (over the redirect chain)"
                raise FetchTimeout(f"no complete response within {timeout:g} s{where}",
                                   url=str(url)) from None
            except httpx.TimeoutException as exc:
                raise FetchTimeout(f"{type(exc).__name__} ({phase})", url=str(url)) from None
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if phase == "body":
                    raise BadContent(f"broken or truncated body: {exc}", url=str(url)) from None
                raise TransportError(f"{type(exc).__name__}: {exc}", url=str(url)) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise BlockedURLError(str(exc), url=str(url)) from None
            except httpx.HTTPError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}" if str(exc)
                                     else type(exc).__name__, url=str(url)) from None
            except OSError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}", url=str(url)) from None
            except FetchError as exc:
                if exc.url is None:
                    exc.url = str(url)
                raise
            finally:
                if budget is not None:
                    budget.seconds -= loop.time() - started

    async def _read(self, response: httpx.Response, url: httpx.URL, accept: str,
                    max_bytes: int, prefix: bool = False) -> _Response:
        status = response.status_code
        media, charset = _media_type(response.headers.get("content-type"))
        resp = _Response(url, status, response.headers, content_type=media, charset=charset)
        if not 200 <= status < 300:
            # Redirects, 304 and errors: the body is not kept. A short one is read to its end
            # so the connection can be reused; a long one is left (the connection is closed).
            await self._drain(response)
            return resp
        length = response.headers.get("content-length")
        if prefix:
            resp.content, resp.truncated = await read_prefix(
                response.aiter_raw(), response.headers.get("content-encoding"), max_bytes)
            return resp
        if length and length.strip().isdigit() and int(length) > max_bytes:
            raise TooLarge(f"Content-Length {int(length)} over the {max_bytes} byte cap",
                           url=str(url))
        sniff = media in SNIFF_TYPES and accept != "any"
        if not sniff and not _acceptable(media, accept):
            raise UnsupportedContent(f"content type {media!r} is not {accept}", url=str(url))
        resp.content = await read_body(response.aiter_raw(),
                                       response.headers.get("content-encoding"), max_bytes)
        if sniff:
            guessed = _sniff(resp.content)
            if guessed is None or not _acceptable(guessed, accept):
                raise UnsupportedContent(
                    f"content type {media or '(none)'!r} and the body does not look like "
                    f"{accept}", url=str(url))
            resp.content_type = guessed
        return resp

    @staticmethod
    async def _drain(response: httpx.Response, limit: int = 65536) -> None:
        seen = 0
        try:
            async for chunk in response.aiter_raw():
                seen += len(chunk)
                if seen > limit:
                    return
        except httpx.HTTPError:
            return

    async def _load_robots(self, robots_url: str) -> tuple[int, bytes]:
        url = httpx.URL(robots_url)
        for _hop in range(6):
            check_url(url, self._allowed)
            resp = await self._request(url, {"Accept": "text/plain,*/*;q=0.5"}, "any",
                                       MAX_ROBOTS_BYTES, prefix=True)
            if resp.status in REDIRECT_CODES and resp.headers.get("location"):
                url = self._location(resp)
                continue
            content = resp.content
            if resp.truncated and b"\n" in content:
                # RFC 9309 2.5: parse the first 500 KiB; drop the line the cut went through
                content = content[:content.rfind(b"\n") + 1]
            return resp.status, content
        return 404, b""  # RFC 9309: more than five redirects, treat as unavailable
