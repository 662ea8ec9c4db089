"""The scheduled crawler's core, with no timer of its own: testable with a fake clock.

    daemon = Daemon(settings, store, fetcher, clock=clock, rng=random.Random(1), log=logger)
    daemon.start()                 # plan: stored next checks, overdue ones spread out
    await daemon.run_due()         # crawl every source whose time has come (now = clock())
    daemon.next_wakeup()           # the earliest planned check

``aggregator.scheduler`` puts an APScheduler job per source on top of ``run_source``.

After each check of a source the daemon decides the next one (aggregator.schedule: adaptive
interval from publish history, server hints, error backoff, jitter), stores it in the
database (so a restart resumes the schedule), adds a ``crawl_runs`` row and logs one line.
Every fetch is logged too, through :class:`ObservedFetcher`, which wraps the real Fetcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aggregator.config import Settings
from aggregator.crawl import Crawler, SourceReport, utc_now
from aggregator.errors import FetchError, HTTPStatusError
from aggregator.logs import FetchEvent, RunEvent, RunLogger
from aggregator.models import Page, Source
from aggregator.schedule import (
    Hints,
    NextCheck,
    adaptive_interval,
    limits_for,
    next_check,
    server_hints,
    start_times,
)
from aggregator.store import Store, iso
from aggregator.store.schedule_state import (
    load_schedules,
    publish_times,
    record_run,
    save_schedule,
)
from aggregator.watches import close_listeners, make_listeners

Clock = Callable[[], datetime]


# -- fetch observation ---------------------------------------------------------------------
@dataclass
class _Capture:
    """What one source run fetched (set per run in a context variable)."""

    source: Source
    fetches: int = 0
    source_page: Page | None = None
    source_error: FetchError | None = None
    failed_urls: set[str] = field(default_factory=set)


_current: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar(
    "aggregator_daemon_run", default=None)


class ObservedFetcher:
    """A Fetcher look-alike that logs every fetch and keeps the source's own response (for
    its caching hints). Everything else is passed through to the wrapped fetcher."""

    def __init__(self, inner: Any, on_fetch: Callable[[FetchEvent], None] | None = None) -> None:
        self._inner = inner
        self._on_fetch = on_fetch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def fetch(self, url: str, **kwargs: Any) -> Page:
        capture = _current.get()
        started = time.perf_counter()
        try:
            page = await self._inner.fetch(url, **kwargs)
        except FetchError as exc:
            if capture is not None:
                capture.failed_urls.add(url)
                if url == capture.source.url:
                    capture.source_error = exc
            self._emit(capture, url, getattr(exc, "status", None), 0, started,
                       error=f"{exc.kind}: {exc.reason}")
            raise
        if capture is not None:
            capture.fetches += 1
            if url == capture.source.url and capture.source_page is None:
                capture.source_page = page
        self._emit(capture, url, page.status, len(page.content), started,
                   final_url=page.final_url)
        return page

    def _emit(self, capture: _Capture | None, url: str, status: int | None, size: int,
              started: float, *, error: str | None = None, final_url: str | None = None) -> None:
        if self._on_fetch is None:
            return
        self._on_fetch(FetchEvent(
            source=capture.source.name if capture else None, url=url, status=status,
            bytes=size, ms=round((time.perf_counter() - started) * 1000, 1), error=error,
            final_url=final_url,
        ))


# -- the daemon ------------------------------------------------------------------------------
@dataclass
class RunResult:
    source: str
    status: str  # ok | not-modified | failed | cancelled | skipped
    new: int = 0
    entries: int = 0
    errors: int = 0
    next: NextCheck | None = None
    hints: Hints = field(default_factory=Hints)


#: How often the daemon queues again watch alerts left pending by a webhook that was down.
ALERT_RETRY_EVERY = 600.0


class Daemon:
    """Runs due sources and keeps the schedule (in memory and in the database)."""

    def __init__(self, settings: Settings, store: Store, fetcher: Any, *,
                 clock: Clock = utc_now, rng: random.Random | None = None,
                 log: RunLogger | None = None, spread: float = 60.0,
                 jitter: float = 0.1, error_cap: float = 86400.0) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self.log = log
        self.spread = spread
        self.jitter = jitter
        self.error_cap = error_cap
        self.sources = {s.name: s for s in settings.sources if s.enabled}
        self.fetcher = ObservedFetcher(fetcher, log.fetch if log else None)
        self.listeners = make_listeners(settings, store)  # the config's watches
        self.crawler = Crawler(settings, store, self.fetcher, clock=clock,  # type: ignore[arg-type]
                               listeners=self.listeners)
        self.plan: dict[str, datetime] = {}
        self.intervals: dict[str, float] = {}
        self.stopping = False
        self.crashes = 0  # runs that ended in an unexpected exception (logged, backed off)
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        # make_listeners queued the pending watch alerts already; run_due retries them
        # every ALERT_RETRY_EVERY seconds
        self._alerts_retried = clock()

    # -- planning --------------------------------------------------------------------------
    def start(self, *, spread: float | None = None) -> dict[str, datetime]:
        """Register the sources and plan each one's first check: the stored next check if it
        is still ahead, else soon (spread over ``spread`` seconds)."""
        self.store.sync_sources(self.sources.values())
        stored = load_schedules(self.store)
        limits = {n: limits_for(s) for n, s in self.sources.items()}
        self.intervals = {
            n: limits[n].clamp(float(stored[n].current_interval or s.interval))
            if n in stored else float(s.interval)
            for n, s in self.sources.items()
        }
        self.plan = start_times(
            {n: stored[n].next_check if n in stored else None for n in self.sources},
            self.intervals, self.clock(), self.rng,
            spread=self.spread if spread is None else spread,
        )
        return dict(self.plan)

    def due(self, now: datetime | None = None) -> list[Source]:
        now = now or self.clock()
        return [self.sources[n] for n, when in sorted(self.plan.items(), key=lambda kv: kv[1])
                if when <= now and n not in self._inflight]

    def next_wakeup(self) -> datetime | None:
        return min(self.plan.values(), default=None)

    @property
    def busy(self) -> bool:
        return bool(self._inflight)

    # -- running ---------------------------------------------------------------------------
    async def run_due(self, now: datetime | None = None) -> list[RunResult]:
        """Crawl every due source (concurrently) and plan its next check."""
        if self.stopping:
            return []
        self._retry_alerts(now or self.clock())
        due = self.due(now)
        results = await asyncio.gather(*(self.run_source(s.name) for s in due),
                                       return_exceptions=True)
        out = []
        for source, result in zip(due, results, strict=True):
            if isinstance(result, RunResult):
                out.append(result)
            elif isinstance(result, asyncio.CancelledError):
                out.append(RunResult(source.name, "cancelled"))
            else:
                raise result
        return out

    def _retry_alerts(self, now: datetime) -> None:
        """Queue again the watch alerts a webhook has not taken yet (at most every
        ALERT_RETRY_EVERY seconds; the deliverer skips rows still queued)."""
        if (now - self._alerts_retried).total_seconds() < ALERT_RETRY_EVERY:
            return
        self._alerts_retried = now
        for listener in self.listeners:
            retry = getattr(listener, "retry_pending", None)
            if callable(retry):
                retry()

    async def run_source(self, name: str) -> RunResult:
        """Check one source now: crawl it, then decide, store and log its next check."""
        source = self.sources[name]
        if self.stopping or name in self._inflight:
            return RunResult(name, "skipped")
        task = asyncio.current_task()
        assert task is not None
        self._inflight[name] = task
        capture = _Capture(source)
        token = _current.set(capture)
        started = self.clock()
        t0 = time.perf_counter()
        try:
            report = await self.crawler.crawl_source(source)
        except asyncio.CancelledError:
            self._finish_cancelled(source, started, t0)
            raise
        except Exception as exc:  # a bug or a store problem: log it, back off, keep going
            return self._finish_crash(source, exc, started, t0)
        finally:
            _current.reset(token)
            self._inflight.pop(name, None)
        try:
            return self._finish(source, report, capture, started, t0)
        except Exception as exc:  # e.g. the store failed while recording: same treatment
            return self._finish_crash(source, exc, started, t0)

    def _finish(self, source: Source, report: SourceReport, capture: _Capture,
                started: datetime, t0: float) -> RunResult:
        now = self.clock()
        state = self.store.source_state(source.name)
        streak = int(state.get("error_streak") or 0)
        limits = limits_for(source)
        previous = self.intervals.get(source.name)
        interval = adaptive_interval(float(source.interval),
                                     publish_times(self.store, source.name), now, limits,
                                     previous=previous)
        hints = self._hints(source, report, capture, now)
        decision = next_check(now, interval, limits=limits, hints=hints, error_streak=streak,
                              rng=self.rng, jitter=self.jitter, error_cap=self.error_cap)
        retry_until = now + timedelta(seconds=hints.retry_after) if hints.retry_after else None
        save_schedule(self.store, source.name, next_check=decision.at, current_interval=interval,
                      new_at=now if report.new else None, retry_after_until=retry_until)
        self.intervals[source.name] = interval
        self.plan[source.name] = decision.at
        page = capture.source_page
        http_status = page.status if page else (
            capture.source_error.status
            if isinstance(capture.source_error, HTTPStatusError) else None)
        message = state.get("last_error") if report.status == "failed" else None
        record_run(self.store, source=source.name, started=started, finished=now,
                   status=report.status, http_status=http_status, entries=report.entries,
                   new=report.new, errors=len(report.errors), message=message)
        if self.log:
            for err in report.errors:  # errors after a good fetch (no article, bad feed, ...)
                if err.url not in capture.failed_urls:
                    self.log.error(source.name, err.url, err.kind, err.message)
            self.log.run(RunEvent(
                source=source.name, status=report.status, entries=report.entries,
                new=report.new, errors=len(report.errors),
                ms=round((time.perf_counter() - t0) * 1000, 1), interval=interval,
                next_check=iso(decision.at), reason=decision.reason, error=message,
            ))
        return RunResult(source.name, report.status, report.new, report.entries,
                         len(report.errors), decision, hints)

    def _finish_cancelled(self, source: Source, started: datetime, t0: float) -> None:
        """A run cut off at the shutdown deadline: what it stored stays (each article is
        whole); the next check is left as it was, so a restart checks the source again."""
        now = self.clock()
        with contextlib.suppress(Exception):  # best effort: we are shutting down
            record_run(self.store, source=source.name, started=started, finished=now,
                       status="cancelled", message="stopped at the shutdown deadline")
        if self.log:
            self.log.run(RunEvent(source=source.name, status="cancelled", entries=0, new=0,
                                  errors=0, ms=round((time.perf_counter() - t0) * 1000, 1),
                                  error="stopped at the shutdown deadline"))

    def _finish_crash(self, source: Source, exc: Exception, started: datetime,
                      t0: float) -> RunResult:
        """A check that ended in an unexpected exception counts as a failed check (the
        source shows as failing and backs off); the daemon itself goes on."""
        now = self.clock()
        message = f"internal error: {type(exc).__name__}: {exc}"
        self.crashes += 1
        interval = self.intervals.get(source.name, float(source.interval))
        decision = None
        try:
            streak = int(self.store.source_state(source.name).get("error_streak") or 0) + 1
            decision = next_check(now, interval, limits=limits_for(source), error_streak=streak,
                                  rng=self.rng, jitter=self.jitter, error_cap=self.error_cap)
            self.store.record_source_check(source.name, now=now, status=None, ok=False,
                                           error=message, next_check=decision.at)
            save_schedule(self.store, source.name, next_check=decision.at,
                          current_interval=interval)
            record_run(self.store, source=source.name, started=started, finished=now,
                       status="error", message=message)
        except Exception:  # noqa: BLE001 - the store itself may be what failed
            pass
        if decision is None:  # could not even read the streak: come back after an interval
            decision = next_check(now, interval, limits=limits_for(source), error_streak=1,
                                  rng=self.rng, jitter=self.jitter, error_cap=self.error_cap)
        self.plan[source.name] = decision.at
        if self.log:
            self.log.run(RunEvent(source=source.name, status="error", entries=0, new=0,
                                  errors=1, ms=round((time.perf_counter() - t0) * 1000, 1),
                                  interval=interval, next_check=iso(decision.at),
                                  reason=decision.reason, error=message))
        return RunResult(source.name, "error", errors=1, next=decision)

    def _hints(self, source: Source, report: SourceReport, capture: _Capture,
               now: datetime) -> Hints:
        page = capture.source_page
        if page is not None:
            hints = server_hints(page.headers, now)
            # The feed's TTL comes from the crawler: read from the feed's body, or kept from
            # the last one after a 304 (which has no body), also for a discovered feed.
            return replace(hints, ttl=report.feed_ttl) if source.kind == "feed" else hints
        err = capture.source_error
        if isinstance(err, HTTPStatusError) and err.retry_after:
            return Hints(retry_after=err.retry_after)
        return Hints()

    # -- stopping --------------------------------------------------------------------------
    async def close(self, timeout: float = 30.0) -> None:
        """Deliver what the watches have queued (bounded by ``timeout``)."""
        await asyncio.to_thread(close_listeners, self.listeners, timeout)

    async def shutdown(self, grace: float) -> int:
        """Start nothing new; wait up to ``grace`` seconds for running checks, then cancel
        them. Returns how many were cancelled."""
        self.stopping = True
        tasks = [t for t in self._inflight.values() if not t.done()]
        if not tasks:
            return 0
        if self.log:
            self.log.info("stopping: waiting for running checks", running=len(tasks),
                          deadline_s=grace)
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        return len(pending)
