"""Health of every source, for ``aggregator status`` and for monitoring.

Per source: last success, last error and error streak, next check, current interval,
articles fetched in the last 24 h and 7 days, and extraction health: the share of recent
articles with an empty or very short body, no date, or no author, compared with the same
shares over the source's older articles. A share that jumps (a site changed its layout and
the extractor now misses the body, the date or the byline) gives a warning.

The judging is pure (:func:`extraction_health`, :func:`judge`); :func:`collect` runs the
queries against a Store (read-only, so it works while a crawler writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from aggregator.store.db import Store
from aggregator.store.schedule_state import articles_since, parse_time

SHORT_BODY = 200  # characters: a body shorter than this is "very short"
RECENT_ARTICLES = 20  # the newest N articles form the "recent" sample
HISTORY_ARTICLES = 200  # up to N articles before those form the history
MIN_RECENT = 5  # fewer recent articles than this: too few to judge
MIN_HISTORY = 10
JUMP = 0.3  # a share rising by this much (30 points) over history gives a warning
#: Streak at which a source counts as failing (status exits non-zero).
FAILING_STREAK = 1
#: A next check later than this (or than one interval, if longer) is reported as overdue.
OVERDUE_GRACE = 3600.0
METRICS = ("short_body", "no_date", "no_author")


@dataclass(frozen=True)
class ArticleSample:
    """What extraction health needs to know about one stored article."""

    text_length: int
    has_date: bool
    has_author: bool


@dataclass(frozen=True)
class Shares:
    count: int
    short_body: float
    no_date: float
    no_author: float


@dataclass(frozen=True)
class ExtractionHealth:
    recent: Shares
    history: Shares
    warnings: tuple[str, ...] = ()


@dataclass
class SourceHealth:
    name: str
    title: str | None
    enabled: bool
    configured_interval: int | None
    current_interval: int | None
    last_checked: str | None
    last_success: str | None
    last_error: str | None
    error_streak: int
    next_check: str | None
    articles: int
    articles_24h: int
    articles_7d: int
    extraction: ExtractionHealth | None
    state: str = "ok"  # ok | warning | failing | never-checked | disabled
    warnings: list[str] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.state == "failing"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failing"] = self.failing
        return data


def shares(samples: Sequence[ArticleSample], short: int = SHORT_BODY) -> Shares:
    n = len(samples)
    if not n:
        return Shares(0, 0.0, 0.0, 0.0)
    return Shares(
        n,
        round(sum(s.text_length < short for s in samples) / n, 3),
        round(sum(not s.has_date for s in samples) / n, 3),
        round(sum(not s.has_author for s in samples) / n, 3),
    )


def extraction_health(newest_first: Sequence[ArticleSample], *, recent: int = RECENT_ARTICLES,
                      jump: float = JUMP, min_recent: int = MIN_RECENT,
                      min_history: int = MIN_HISTORY) -> ExtractionHealth:
    """Compare the newest ``recent`` articles with the ones before them."""
    now_part, past_part = newest_first[:recent], newest_first[recent:]
    r, h = shares(now_part), shares(past_part)
    warnings: list[str] = []
    if r.count >= min_recent and h.count >= min_history:
        labels = {"short_body": "empty or very short body", "no_date": "no date",
                  "no_author": "no author"}
        for metric in METRICS:
            was, now = getattr(h, metric), getattr(r, metric)
            if now - was >= jump:
                warnings.append(
                    f"{labels[metric]}: {now:.0%} of the last {r.count} articles, "
                    f"{was:.0%} before (layout change?)")
    return ExtractionHealth(r, h, tuple(warnings))


def judge(h: SourceHealth, *, failing_streak: int = FAILING_STREAK) -> SourceHealth:
    """Set ``state`` and ``warnings`` from the numbers."""
    warnings = list(h.extraction.warnings) if h.extraction else []
    if not h.enabled:
        state = "disabled"
    elif h.error_streak >= failing_streak:
        state = "failing"
    elif not h.last_checked:
        state = "never-checked"
    elif warnings:
        state = "warning"
    else:
        state = "ok"
    h.state = state
    h.warnings = warnings
    return h


def samples(store: Store, source: str, limit: int = RECENT_ARTICLES + HISTORY_ARTICLES
            ) -> list[ArticleSample]:
    rows = store.conn.execute(
        "SELECT length(COALESCE(text, '')), published IS NOT NULL,"
        " COALESCE(authors, '[]') NOT IN ('[]', '', 'null')"
        " FROM articles WHERE source = ? ORDER BY fetched DESC, id DESC LIMIT ?",
        (source, limit),
    ).fetchall()
    return [ArticleSample(int(n), bool(d), bool(a)) for n, d, a in rows]


def collect(store: Store, now: datetime, *, configured: Iterable[Any] | None = None,
            failing_streak: int = FAILING_STREAK) -> list[SourceHealth]:
    """Health of every source: the configured ones (Source objects) if given, in config order
    (with their state from the database), else every source the database knows."""
    rows = {r["name"]: r for r in store.sources()}
    counts = articles_since(store, now, {"24h": 86400, "7d": 7 * 86400})
    totals = dict(store.conn.execute("SELECT source, count(*) FROM articles GROUP BY source"))
    if configured is not None:
        wanted = [(s.name, s.title, s.enabled, s.interval) for s in configured]
    else:
        wanted = [(r["name"], r["title"], True, r["interval"]) for r in rows.values()]
    out = []
    for name, title, enabled, interval in wanted:
        row = rows.get(name, {})
        c = counts.get(name, {})
        out.append(judge(SourceHealth(
            name=name, title=title, enabled=bool(enabled), configured_interval=interval,
            current_interval=row.get("current_interval") or row.get("interval") or interval,
            last_checked=row.get("last_checked"), last_success=row.get("last_success"),
            last_error=row.get("last_error"), error_streak=int(row.get("error_streak") or 0),
            next_check=row.get("next_check"), articles=int(totals.get(name, 0)),
            articles_24h=c.get("24h", 0), articles_7d=c.get("7d", 0),
            extraction=extraction_health(samples(store, name)),
        ), failing_streak=failing_streak))
        late = overdue(out[-1], now)
        interval = out[-1].current_interval or interval or 0
        if late is not None and enabled and late > max(OVERDUE_GRACE, float(interval)):
            out[-1].warnings.append(
                f"next check overdue by {_hours(late)} (is `aggregator run` running?)")
            if out[-1].state == "ok":
                out[-1].state = "warning"
    return out


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} days"


def overdue(h: SourceHealth, now: datetime) -> float | None:
    """Seconds the next check is late by (None if not due or unknown)."""
    when = parse_time(h.next_check)
    if when is None:
        return None
    late = (now - when).total_seconds()
    return late if late > 0 else None
