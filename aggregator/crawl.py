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
from aggregator.dedup.urls import canonical_url, choose_canonical
from aggregator.errors import AggregatorError, FeedError, HTTPStatusError
from aggregator.extract import extract_article
from aggregator.feeds import discover_feeds, parse_feed, parse_listing
from aggregator.fetch import Fetcher
from aggregator.fetch.backoff import error_backoff
from aggregator.fetch.charset import decode_html
from aggregator.models import Article, Entry, Page, Source
from aggregator.store import Store

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
        try:
            page = await self.fetcher.fetch(
                source.url, etag=state.get("etag"), last_modified=state.get("last_modified"),
                accept="feed" if source.kind == "feed" else "html", robots=source.robots,
            )
            if page.not_modified:
                report.status = "not-modified"
                self._finish(source, report, page, keep_validators=True)
                return report
            entries = await self._entries(source, page)
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

        report.entries = len(entries)
        await self._articles(source, entries[: source.max_articles], report)
        self._finish(source, report, page)
        self.progress(f"{source.name}: {report.new} new of {report.entries} entries")
        return report

    def _finish(self, source: Source, report: SourceReport, page: Page, *,
                keep_validators: bool = False) -> None:
        now = self.clock()
        self.store.record_source_check(
            source.name, now=now, ok=True, status=page.status, etag=page.etag,
            last_modified=page.last_modified, keep_validators=keep_validators,
            next_check=now + timedelta(seconds=source.interval), new_articles=report.new,
        )

    async def _entries(self, source: Source, page: Page) -> list[Entry]:
        if source.kind == "feed":
            try:
                return list(parse_feed(page.content, page.final_url,
                                       content_type=page.content_type).entries)
            except FeedError:
                if "html" not in page.content_type:
                    raise
                # A page instead of a feed: follow the feed it announces, once.
                html, _ = decode_html(page.content, page.charset)
                found = discover_feeds(html, page.final_url)
                if not found:
                    raise
                feed = await self.fetcher.fetch(found[0], accept="feed", robots=source.robots)
                return list(parse_feed(feed.content, feed.final_url,
                                       content_type=feed.content_type).entries)
        entries: list[Entry] = []
        seen_pages = {page.final_url}
        current = page
        for number in range(1, source.max_pages + 1):
            html, _ = decode_html(current.content, current.charset)
            listing = parse_listing(html, current.final_url, link_selector=source.link_selector
                                    or "a", next_selector=source.next_selector)
            known = {e.url for e in entries}
            entries.extend(e for e in listing.entries if e.url not in known)
            if (number == source.max_pages or not listing.next_url
                    or listing.next_url in seen_pages):
                break
            seen_pages.add(listing.next_url)
            current = await self.fetcher.fetch(listing.next_url, accept="html",
                                               robots=source.robots)
        return entries

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
            result = self.store.save_article(
                article, source=source.name, canonical_url=canonical,
                aliases=[entry.url, entry_canonical, page.final_url, final],
                fetched=self.clock(), entry=entry, dedup=self.settings.dedup,
            )
        except AggregatorError as exc:
            self._record(report, entry.url, exc)
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
