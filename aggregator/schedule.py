"""When to check a source next: pure functions, no I/O, no clock (``now`` is passed in).

The next check of a source is decided in four steps:

1. **Adaptive interval** (:func:`adaptive_interval`): from the publish times of the
   source's recent articles. A source that published ``n`` items in the last week has a mean
   gap of ``week / n``; it is checked about twice per gap, within the source's minimum and
   maximum (:class:`IntervalLimits`). A source with dated history but nothing recent is
   slowed down step by step towards its maximum; a source with no dated history keeps its
   configured interval.
2. **Server hints** (:func:`server_hints`): ``Retry-After``, ``Cache-Control: max-age``,
   ``Expires`` and a feed's own ``<ttl>`` / ``sy:updatePeriod`` push the next check later
   (never sooner), clamped to the maximum interval (Retry-After to the error cap).
3. **Error backoff**: a failing source waits ``error_backoff(streak, interval)``
   (aggregator.fetch.backoff), capped at a day by default; never dropped.
4. **Jitter** (injected ``random.Random``) so sources with equal intervals drift apart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from aggregator.fetch.backoff import error_backoff, parse_retry_after

DAY = 86400.0
WEEK = 7 * DAY
#: Default bounds for the adaptive interval, relative to the configured one.
MIN_FACTOR = 0.25
MAX_FACTOR = 8.0
FLOOR_SECONDS = 60.0  # the default minimum never goes below a minute ...
CEILING_SECONDS = DAY  # ... and the default maximum never above a day (unless configured)
#: Checks per mean publishing gap (2 = check twice as often as items appear).
CHECKS_PER_GAP = 2.0
#: A quiet source's interval grows by this factor per check without recent items.
QUIET_GROWTH = 1.5
DEFAULT_JITTER = 0.1  # +-10 %
ERROR_CAP = DAY


@dataclass(frozen=True)
class IntervalLimits:
    """Bounds for one source's adaptive interval, in seconds."""

    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if self.minimum <= 0 or self.maximum < self.minimum:
            raise ValueError(f"bad interval limits {self.minimum}..{self.maximum}")

    def clamp(self, seconds: float) -> float:
        return min(max(seconds, self.minimum), self.maximum)


def default_limits(interval: float, *, minimum: float | None = None,
                   maximum: float | None = None) -> IntervalLimits:
    """Limits around a configured interval: a quarter of it (at least a minute) up to eight
    times it (at most a day, but never below the interval itself). Explicit values win."""
    lo = minimum if minimum is not None else min(interval, max(interval * MIN_FACTOR,
                                                                FLOOR_SECONDS))
    hi = maximum if maximum is not None else max(interval, min(interval * MAX_FACTOR,
                                                               CEILING_SECONDS))
    hi = max(hi, lo)
    return IntervalLimits(float(lo), float(hi))


def limits_for(source: object) -> IntervalLimits:
    """Limits for a configured Source: ``min_interval`` / ``max_interval`` attributes if the
    config provides them, else :func:`default_limits` around ``source.interval``."""
    interval = float(getattr(source, "interval"))  # noqa: B009 - duck-typed Source
    return default_limits(interval, minimum=getattr(source, "min_interval", None),
                          maximum=getattr(source, "max_interval", None))


def adaptive_interval(base: float, publish_times: Iterable[datetime], now: datetime,
                      limits: IntervalLimits, *, previous: float | None = None,
                      window: float = WEEK) -> float:
    """The interval to use from now on, given when the source's recent items were published.

    ``base`` is the configured interval; ``previous`` the adaptive interval in force (None on
    the first run). Items dated in the future count as published now; items older than the
    window only tell us the source has history.
    """
    now = _aware(now)
    times = [min(_aware(t), now) for t in publish_times]
    if not times:
        return limits.clamp(previous if previous is not None else base)
    start = now - timedelta(seconds=window)
    recent = [t for t in times if t >= start]
    if not recent:
        current = previous if previous is not None else base
        return limits.clamp(max(current, base) * QUIET_GROWTH)
    # A source younger than the window (first item inside it) is measured over its real age,
    # but over at least one configured interval so a burst of old items is not a flood.
    span = max((now - min(times)).total_seconds(), base) if min(times) > start else window
    span = min(span, window)
    gap = span / len(recent)
    return limits.clamp(gap / CHECKS_PER_GAP)


# -- server hints ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Hints:
    """Seconds from now before which the server asks us not to come back (None: no hint)."""

    retry_after: float | None = None
    max_age: float | None = None
    expires: float | None = None
    ttl: float | None = None

    def delay(self, maximum: float, *, retry_cap: float = ERROR_CAP) -> float:
        """The longest caching hint (clamped to ``maximum``) or Retry-After (to ``retry_cap``)."""
        cache = max((v for v in (self.max_age, self.expires, self.ttl) if v), default=0.0)
        return max(min(cache, maximum), min(self.retry_after or 0.0, retry_cap))

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in (("retry_after", self.retry_after), ("max_age", self.max_age),
                                  ("expires", self.expires), ("ttl", self.ttl)) if v}


_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-cache|no-store)\b", re.IGNORECASE)
_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>", re.IGNORECASE)
_SY_PERIOD = re.compile(rb"<sy:updatePeriod>\s*(hourly|daily|weekly|monthly|yearly)\s*<",
                        re.IGNORECASE)
_SY_FREQ = re.compile(rb"<sy:updateFrequency>\s*(\d{1,4})\s*<", re.IGNORECASE)
_PERIOD_SECONDS = {b"hourly": 3600.0, b"daily": DAY, b"weekly": WEEK, b"monthly": 30 * DAY,
                   b"yearly": 365 * DAY}


def cache_max_age(value: str | None) -> float | None:
    """``Cache-Control`` -> max-age seconds (s-maxage preferred); None for no-cache/no-store."""
    if not value or _NO_CACHE.search(value):
        return None
    found = {m.group(1).lower(): float(m.group(2)) for m in _MAX_AGE.finditer(value)}
    seconds = found.get("s-maxage", found.get("max-age"))
    return seconds if seconds else None


def expires_in(expires: str | None, now: datetime, date: str | None = None) -> float | None:
    """``Expires`` as seconds from now, measured against the response's ``Date`` if given
    (so a server with a wrong clock still gets its intended lifetime)."""
    if not expires:
        return None
    when = _http_date(expires)
    if when is None:
        return None
    reference = _http_date(date) if date else None
    seconds = (when - (reference or _aware(now))).total_seconds()
    return seconds if seconds > 0 else None


def feed_ttl(content: bytes) -> float | None:
    """A feed's own refresh hint: RSS ``<ttl>`` (minutes) or ``sy:updatePeriod`` /
    ``sy:updateFrequency`` (syndication module). Looks only at the feed's head."""
    head = content[:65536]
    m = _TTL.search(head)
    if m and int(m.group(1)) > 0:
        return int(m.group(1)) * 60.0
    p = _SY_PERIOD.search(head)
    if p:
        f = _SY_FREQ.search(head)
        freq = max(int(f.group(1)), 1) if f else 1
        return _PERIOD_SECONDS[p.group(1).lower()] / freq
    return None


def server_hints(headers: Sequence[tuple[str, str]] | Mapping[str, str], now: datetime, *,
                 content: bytes = b"", retry_after: float | None = None,
                 is_feed: bool = False) -> Hints:
    """Hints from a response's headers (and a feed's body). ``retry_after``: seconds already
    parsed (e.g. from an HTTPStatusError); else the Retry-After header is read."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    h = {k.lower(): v for k, v in items}
    if retry_after is None:
        retry_after = parse_retry_after(h.get("retry-after"), now, maximum=ERROR_CAP)
    return Hints(
        retry_after=retry_after or None,
        max_age=cache_max_age(h.get("cache-control")),
        expires=None if "max-age" in (h.get("cache-control") or "").lower()
        else expires_in(h.get("expires"), now, h.get("date")),
        ttl=feed_ttl(content) if is_feed and content else None,
    )


# -- the decision -------------------------------------------------------------------------
@dataclass(frozen=True)
class NextCheck:
    at: datetime
    interval: float  # the adaptive interval in force (stored as current_interval)
    delay: float  # seconds from now to ``at`` (after hints, backoff and jitter)
    reason: str  # "interval", "hint", "backoff"


def jittered(seconds: float, rng: random.Random, fraction: float = DEFAULT_JITTER) -> float:
    return seconds * (1.0 + rng.uniform(-fraction, fraction)) if fraction else seconds


def next_check(now: datetime, interval: float, *, limits: IntervalLimits, hints: Hints = Hints(),
               error_streak: int = 0, rng: random.Random, jitter: float = DEFAULT_JITTER,
               error_cap: float = ERROR_CAP) -> NextCheck:
    """When to check next: after ``interval`` (already adaptive), later if the server hinted
    so, much later while failing (exponential backoff on the interval, capped)."""
    now = _aware(now)
    delay, reason = interval, "interval"
    if error_streak > 0:
        delay = error_backoff(error_streak, base=interval, cap=max(error_cap, interval))
        reason = "backoff"
    hinted = hints.delay(limits.maximum, retry_cap=max(error_cap, limits.maximum))
    if hinted > delay:
        delay, reason = hinted, "hint"
    delay = max(jittered(delay, rng, jitter), 1.0)
    # whole seconds, as stored in the database (so the plan in memory equals the stored one)
    at = now + timedelta(seconds=delay)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return NextCheck(at, interval, (at - now).total_seconds(), reason)


def start_times(stored: Mapping[str, datetime | None], intervals: Mapping[str, float],
                now: datetime, rng: random.Random, *, spread: float = 60.0) -> dict[str, datetime]:
    """Where each source starts after a (re)start: its stored next check if still ahead,
    else (never checked, or overdue) some moment in the next ``spread`` seconds (at most its
    interval), so a restart does not hit every source at once."""
    now = _aware(now)
    plan: dict[str, datetime] = {}
    for name, interval in intervals.items():
        when = stored.get(name)
        if when is not None and _aware(when) > now:
            plan[name] = _aware(when)
        else:
            window = max(min(spread, interval), 0.0)
            plan[name] = now + timedelta(seconds=rng.uniform(0, window) if window else 0.0)
    return plan


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    return _aware(when)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
