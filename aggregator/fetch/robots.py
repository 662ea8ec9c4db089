"""robots.txt per origin, cached with a TTL (RFC 9309 semantics).

2xx: parsed with Protego. 4xx (except 429): no robots.txt, everything allowed.
5xx, 429, timeouts, unreachable, refused addresses: everything disallowed for now; the
failure is cached briefly (``error_ttl``) and a stale good copy, if any, is used instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from protego import Protego

from aggregator.errors import FetchError, HTTPStatusError, RobotsDisallowed

#: (status, body) for a robots.txt URL; raises FetchError when it cannot be fetched.
RobotsLoader = Callable[[str], Awaitable[tuple[int, bytes]]]

ERROR_TTL = 300.0
#: RFC 9309 2.5: a longer robots.txt is parsed up to this size, the rest ignored.
MAX_ROBOTS_BYTES = 500 * 1024


@dataclass
class _Entry:
    parser: Protego | None  # None: allow all (4xx) or disallow all (error)
    allow_all: bool
    reason: str
    expires: float
    good: bool  # a real answer (2xx or 4xx), usable when a later refresh fails


class RobotsCache:
    def __init__(self, loader: RobotsLoader, *, user_agent: str, ttl: float = 86400.0,
                 clock: Callable[[], float], error_ttl: float = ERROR_TTL,
                 on_crawl_delay: Callable[[str, float], None] | None = None) -> None:
        self.loader = loader
        self.user_agent = user_agent
        self.ttl = ttl
        self.error_ttl = min(error_ttl, ttl)
        self.clock = clock
        self.on_crawl_delay = on_crawl_delay
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Task[_Entry]] = {}

    @staticmethod
    def origin(url: str | httpx.URL) -> str:
        u = httpx.URL(str(url))
        port = u.port or (443 if u.scheme == "https" else 80)
        return f"{u.scheme}://{u.host}:{port}"

    async def check(self, url: str) -> None:
        """Raise RobotsDisallowed unless robots.txt lets our user agent fetch ``url``."""
        entry = await self._entry(self.origin(url))
        if entry.parser is None:
            if not entry.allow_all:
                raise RobotsDisallowed(entry.reason, url=url, temporary=True)
            return
        if not entry.parser.can_fetch(url, self.user_agent):
            raise RobotsDisallowed("disallowed by robots.txt", url=url)

    async def allowed(self, url: str) -> bool:
        try:
            await self.check(url)
        except RobotsDisallowed:
            return False
        return True

    def crawl_delay(self, url: str) -> float | None:
        entry = self._entries.get(self.origin(url))
        if entry is None or entry.parser is None:
            return None
        delay = entry.parser.crawl_delay(self.user_agent)
        return float(delay) if delay is not None else None

    async def _entry(self, origin: str) -> _Entry:
        entry = self._entries.get(origin)
        if entry is not None and entry.expires > self.clock():
            return entry
        task = self._loading.get(origin)
        if task is None:
            # A task of its own: a caller cancelled mid-load does not cancel it for the others.
            task = asyncio.ensure_future(self._load(origin, entry))
            self._loading[origin] = task

            def done(t: asyncio.Task[_Entry], origin: str = origin) -> None:
                self._loading.pop(origin, None)
                if not t.cancelled() and t.exception() is None:
                    self._entries[origin] = t.result()

            task.add_done_callback(done)
        return await asyncio.shield(task)

    async def _load(self, origin: str, stale: _Entry | None) -> _Entry:
        now = self.clock()
        url = origin + "/robots.txt"
        try:
            status, body = await self.loader(url)
        except HTTPStatusError as exc:
            if exc.retry_after is not None and exc.status in (429, 503):
                raise  # the host asked us to wait: no answer about robots.txt yet, none cached
            return self._failed(stale, now, f"robots.txt unreachable ({exc.kind}: {exc.reason})")
        except FetchError as exc:
            return self._failed(stale, now, f"robots.txt unreachable ({exc.kind}: {exc.reason})")
        if 200 <= status < 300:
            parser = Protego.parse(body.decode("utf-8", errors="replace"))
            delay = parser.crawl_delay(self.user_agent)
            if delay is not None and self.on_crawl_delay is not None:
                self.on_crawl_delay(httpx.URL(origin).host, float(delay))
            return _Entry(parser, True, "", now + self.ttl, True)
        if 400 <= status < 500 and status != 429:
            return _Entry(None, True, "", now + self.ttl, True)
        return self._failed(stale, now, f"robots.txt answered {status}")

    def _failed(self, stale: _Entry | None, now: float, reason: str) -> _Entry:
        if stale is not None and stale.good:
            return _Entry(stale.parser, stale.allow_all, stale.reason, now + self.error_ttl, True)
        return _Entry(None, False, f"{reason}: disallowed for now", now + self.error_ttl, False)
