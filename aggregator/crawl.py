"""One crawl: for each source, fetch its feed or listing, find entries, fetch the new article
pages, extract and store them. A failing source or page is recorded and the rest goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.config import Settings
from aggregator.dedup.urls import canonical_url, choose_canonical, declared_aliases
from aggregator.errors import (
    AggregatorError,
    FeedError,
    FetchTimeout,
    HTTPStatusError,
    RobotsDisallowed,
    TransportError,
)
from aggregator.extract import extract_article
from aggregator.feeds import discover_feeds, parse_feed, parse_listing
from aggregator.fetch import Fetcher
from aggregator.fetch.backoff import error_backoff
from aggregator.fetch.charset import decode_html
from aggregator.fetch.fetcher import RETRY_STATUSES
from aggregator.models import Article, Entry, Page, Source
from aggregator.schedule import feed_ttl
from aggregator.store import CachedURL, Store

Clock = Callable[[], datetime]
Progress = Callable[[str], None]
#: Called after a new article is stored: (article id, article, source). Must not block.
Listener = Callable[[int, Article, Source], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CrawlError:
    source: str
    url: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        where = f" {self.url}" if self.url else ""
        return f"{self.source}:{where}: {self.message}"


@dataclass
class SourceReport:
    name: str
    status: str = "ok"  # ok | not-modified | failed
    entries: int = 0
    new: int = 0
    known: int = 0
    errors: list[CrawlError] = field(default_factory=list)
    #: A feed's own refresh hint (seconds): from its body, or after a 304 as last seen.
    feed_ttl: float | None = None
    #: articles whose fetch failed for a reason that may pass (timeout, reset, 5xx, 429)
    transient: int = 0

    @property
    def checked(self) -> bool:
        return self.status != "failed"


@dataclass
class CrawlSummary:
    reports: list[SourceReport]
    #: watch alert delivery (aggregator.watches.DeliveryStats), None without watches
    alerts: Any = None

    @property
    def new_articles(self) -> int:
        return sum(r.new for r in self.reports)

    @property
    def errors(self) -> list[CrawlError]:
        return [e for r in self.reports for e in r.errors]

    @property
    def failed_sources(self) -> list[str]:
        return [r.name for r in self.reports if not r.checked]

    @property
    def anything_crawled(self) -> bool:
        return any(r.checked for r in self.reports)


def _fresh(page: Page, *, follow: str | None = None, ttl: float | None = None) -> CachedURL:
    """The cache row for a URL that answered with a full body."""
    return CachedURL(page.url, page.etag, page.last_modified, follow, page.status, ttl)


def _keep(cache: list[CachedURL], page: Page, cached: CachedURL | None) -> None:
    """A 304: the stored row stays, with any validators the 304 itself sent."""
    if cached is not None:
        cache.append(CachedURL(cached.url, page.etag or cached.etag,
                               page.last_modified or cached.last_modified, cached.follow,
                               page.status, cached.ttl))


class Crawler:
    def __init__(self, settings: Settings, store: Store, fetcher: Fetcher, *,
                 clock: Clock = utc_now, progress: Progress | None = None,
                 listeners: Sequence[Listener] = ()) -> None:
        self.settings = settings
        self.listeners = tuple(listeners)
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.progress = progress or (lambda _msg: None)

    async def crawl(self, sources: Sequence[Source]) -> CrawlSummary:
        self.store.sync_sources(sources)
        reports = await asyncio.gather(*(self.crawl_source(s) for s in sources))
        return CrawlSummary(list(reports))

    # -- one source ----------------------------------------------------------------------
    async def crawl_source(self, source: Source) -> SourceReport:
        report = SourceReport(source.name)
        state = self.store.source_state(source.name)
        # Validators (and follow links) per fetched feed/listing URL, stored once the source's
        # articles are: a crash or failure before then means a full fetch next time.
        cache: list[CachedURL] = []
        try:
            page, cached = await self._conditional(
                source.url, "feed" if source.kind == "feed" else "html", source)
            if source.kind == "feed":
                entries = await self._feed_entries(source, page, cached, cache)
                # the feed's row comes last (after the page that announced it, if any)
                report.feed_ttl = cache[-1].ttl if cache else None
            else:
                entries = await self._listing_entries(source, page, cached, cache)
        except AggregatorError as exc:
            report.status = "failed"
            self._record(report, source.url, exc)
            streak = int(state.get("error_streak") or 0) + 1
            delay = max(error_backoff(streak, base=float(source.interval)),
                        getattr(exc, "retry_after", None) or 0)
            self.store.record_source_check(
                source.name, now=self.clock(), ok=False,
                status=exc.status if isinstance(exc, HTTPStatusError) else None,
                error=f"{exc.kind}: {exc}", next_check=self.clock() + timedelta(seconds=delay),
            )
            self.progress(f"{source.name}: failed: {exc}")
            return report

        if entries is None:  # every URL answered 304: nothing parsed, nothing to store
            report.status = "not-modified"
            self._finish(source, report, page, cache)
            return report
        report.entries = len(entries)
        await self._articles(source, entries[: source.max_articles], report)
        self._finish(source, report, page, cache)
        self.progress(f"{source.name}: {report.new} new of {report.entries} entries")
        return report

    def _finish(self, source: Source, report: SourceReport, page: Page,
                cache: Sequence[CachedURL]) -> None:
        now = self.clock()
        if not report.transient:
            # With articles that failed for a passing reason, the new validators are not
            # kept: the next check reads the feed again and retries them (stored ones are
            # skipped by URL), instead of a 304 hiding them until the feed changes.
            self.store.save_cached_urls(cache, now=now)
        self.store.record_source_check(
            source.name, now=now, ok=True, status=page.status, etag=page.etag,
            last_modified=page.last_modified,
            next_check=now + timedelta(seconds=source.interval), new_articles=report.new,
        )

    async def _conditional(self, url: str, accept: str,
                           source: Source) -> tuple[Page, CachedURL | None]:
        """GET ``url`` with the validators stored for that very URL."""
        cached = self.store.cached_url(url)
        page = await self.fetcher.fetch(
            url, etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
            accept=accept, robots=source.robots)
        return page, cached

    async def _feed_entries(self, source: Source, page: Page, cached: CachedURL | None,
                            cache: list[CachedURL]) -> list[Entry] | None:
        """The feed's entries; None if nothing changed (304s only, no parsing)."""
        if page.not_modified:
            _keep(cache, page, cached)
            follow = cached.follow if cached else None
            if follow is None:
                return None
            # The page is unchanged, but the feed it announced may not be.
            return await self._discovered_feed(source, follow, cache)
        try:
            entries = list(parse_feed(page.content, page.final_url,
                                      content_type=page.content_type).entries)
        except FeedError:
            if "html" not in page.content_type:
                raise
            # A page instead of a feed: follow the feed it announces, once.
            html, _ = decode_html(page.content, page.charset)
            found = discover_feeds(html, page.final_url)
            if not found:
                raise
            cache.append(_fresh(page, follow=found[0]))
            return await self._discovered_feed(source, found[0], cache)
        cache.append(_fresh(page, ttl=feed_ttl(page.content)))
        return entries

    async def _discovered_feed(self, source: Source, url: str,
                               cache: list[CachedURL]) -> list[Entry] | None:
        feed, cached = await self._conditional(url, "feed", source)
        if feed.not_modified:
            _keep(cache, feed, cached)
            return None
        entries = list(parse_feed(feed.content, feed.final_url,
                                  content_type=feed.content_type).entries)
        cache.append(_fresh(feed, ttl=feed_ttl(feed.content)))
        return entries

    async def _listing_entries(self, source: Source, page: Page, cached: CachedURL | None,
                               cache: list[CachedURL]) -> list[Entry] | None:
        """Entries of up to max_pages listing pages; None if every page answered 304. An
        unchanged page is not parsed: its next page is the one stored from its last body."""
        entries: list[Entry] = []
        seen_pages = {page.final_url}
        current = page
        changed = False
        for number in range(1, source.max_pages + 1):
            if current.not_modified:
                _keep(cache, current, cached)
                next_url = cached.follow if cached else None
            else:
                changed = True
                html, _ = decode_html(current.content, current.charset)
                listing = parse_listing(html, current.final_url,
                                        link_selector=source.link_selector or "a",
                                        next_selector=source.next_selector)
                known = {e.url for e in entries}
                entries.extend(e for e in listing.entries if e.url not in known)
                next_url = listing.next_url
                cache.append(_fresh(current, follow=next_url))
            if number == source.max_pages or not next_url or next_url in seen_pages:
                break
            seen_pages.add(next_url)
            current, cached = await self._conditional(next_url, "html", source)
        return entries if changed else None

    # -- articles ------------------------------------------------------------------------
    async def _articles(self, source: Source, entries: Sequence[Entry],
                        report: SourceReport) -> None:
        tracking = self.settings.tracking_params
        forms = {e.url: canonical_url(e.url, tracking_params=tracking) for e in entries}
        known = self.store.known_urls([u for pair in forms.items() for u in pair])
        todo = []
        for entry in entries:
            if entry.url in known or forms[entry.url] in known:
                report.known += 1
            else:
                todo.append(entry)
        # Same article listed twice under different URL forms: fetch it once.
        todo = list({forms[e.url]: e for e in reversed(todo)}.values())[::-1]
        results = await asyncio.gather(*(self._article(source, e, forms[e.url], report)
                                         for e in todo))
        report.new += sum(results)

    async def _article(self, source: Source, entry: Entry, entry_canonical: str,
                       report: SourceReport) -> int:
        try:
            page = await self.fetcher.fetch(entry.url, accept="html", robots=source.robots)
            article = extract_article(page.content, page.final_url, rules=self.settings.rules,
                                      entry=entry, header_charset=page.charset)
            tracking = self.settings.tracking_params
            final = canonical_url(page.final_url, tracking_params=tracking)
            canonical = choose_canonical(final, article.canonical_url, tracking_params=tracking)
            # The AMP form the page declares is this article too: never fetched again.
            amp = declared_aliases(page.final_url, article.amp_url, tracking_params=tracking)
            result = self.store.save_article(
                article, source=source.name, canonical_url=canonical,
                aliases=[entry.url, entry_canonical, page.final_url, final, *amp],
                fetched=self.clock(), entry=entry, dedup=self.settings.dedup,
            )
        except AggregatorError as exc:
            self._record(report, entry.url, exc)
            if _transient(exc):
                report.transient += 1
            return 0
        if not result.created:
            return 0
        for listener in self.listeners:
            listener(result.article_id, article, source)
        return 1

    def _record(self, report: SourceReport, url: str | None, exc: AggregatorError) -> None:
        message = exc.reason
        err = CrawlError(report.name, url, exc.kind, message)
        report.errors.append(err)
        self.store.record_error(source=report.name, url=url, kind=exc.kind, message=message,
                                now=self.clock())


def _transient(exc: AggregatorError) -> bool:
    """A failure that may pass by the next check (the fetcher's own retries are used up)."""
    if isinstance(exc, FetchTimeout | TransportError):
        return True
    if isinstance(exc, RobotsDisallowed):
        return exc.temporary  # robots.txt unreadable for now (5xx, unreachable)
    return isinstance(exc, HTTPStatusError) and exc.status in RETRY_STATUSES


async def run_crawl(settings: Settings, store: Store, sources: Sequence[Source], *,
                    clock: Clock = utc_now, progress: Progress | None = None,
                    fetcher: Fetcher | None = None,
                    listeners: Sequence[Listener] = ()) -> CrawlSummary:
    """Crawl ``sources`` with a fresh Fetcher (or the one given). The config's watches are
    checked against every new article; their deliveries are drained (bounded) before
    returning, and what was delivered, failed or left pending is in ``summary.alerts``."""
    from aggregator.watches import close_listeners, delivery_stats, make_listeners

    watch_listeners = make_listeners(settings, store)
    every = [*listeners, *watch_listeners]
    try:
        if fetcher is not None:
            summary = await Crawler(settings, store, fetcher, clock=clock, progress=progress,
                                    listeners=every).crawl(sources)
        else:
            async with Fetcher(settings.fetch) as own:
                summary = await Crawler(settings, store, own, clock=clock, progress=progress,
                                        listeners=every).crawl(sources)
    finally:
        await asyncio.to_thread(close_listeners, watch_listeners)
    summary.alerts = delivery_stats(watch_listeners)
    return summary
