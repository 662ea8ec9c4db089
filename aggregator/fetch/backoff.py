"""Pure helpers for waiting: Retry-After values, retry delays, and failing-source backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime, *,
                      maximum: float = 3600.0) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date.

    Dates in the past give 0; values are clamped to ``maximum``; unreadable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), maximum)


def retry_delay(attempt: int, base: float, rng: random.Random, *, cap: float = 60.0) -> float:
    """Exponential backoff with jitter for retry ``attempt`` (0 for the first retry)."""
    delay = min(base * (2 ** attempt), cap)
    return delay * (0.5 + rng.random())  # jitter in [0.5, 1.5)


def error_backoff(streak: int, base: float, cap: float = 86400.0) -> float:
    """Delay before the next check of a source that has failed ``streak`` times in a row.

    base, 2*base, 4*base, ... capped at ``cap`` (a day by default): the source is polled
    less often but never dropped. ``streak <= 0`` gives ``base`` (the normal interval).
    """
    if streak <= 1:
        return min(base, cap)
    exponent = min(streak - 1, 62)
    return min(base * (2.0 ** exponent), cap)
