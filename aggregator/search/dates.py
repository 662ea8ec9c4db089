"""--since / --until values: ISO dates and datetimes, and relative forms, against an injected now.

Accepted: ``2024-05-01``, ``2024-05-01T10:00``, ``2024-05-01 10:00:00+02:00``, ``...Z``;
``7d``, ``2w``, ``3m`` (months), ``1y``, ``12h``, ``30min`` (also ``7 days``, ``2 weeks ago``);
``now``, ``today``, ``yesterday``. A value without a zone takes ``now``'s zone. With
``end=True`` (for --until) a bare date or today/yesterday means the END of that day (the
start of the next), so ``--until 2024-05-01`` includes May 1st.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta

from aggregator.errors import QueryError

__all__ = ["parse_when"]

_RELATIVE = re.compile(
    r"^(\d{1,5})\s*(min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?|m|mo|months?|y|yrs?|years?)"
    r"(?:\s+ago)?$"
)
HELP = "use a date (2024-05-01), a date and time (2024-05-01T10:00), 7d, 2w, 3m, 1y, 12h, " \
       "today or yesterday"


def _minus_months(now: datetime, months: int) -> datetime:
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    if year < 1:
        raise ValueError("too far back")
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def _day_start(d: date, now: datetime) -> datetime:
    return datetime.combine(d, time(0), tzinfo=now.tzinfo)


def parse_when(value: str, now: datetime, *, end: bool = False) -> datetime:
    """The moment ``value`` names, relative to ``now``. Raises QueryError on anything else."""
    text = " ".join(value.strip().lower().split())
    try:
        if text == "now":
            return now
        if text in ("today", "yesterday"):
            day = now.date() - timedelta(days=0 if text == "today" else 1)
            return _day_start(day + timedelta(days=1 if end else 0), now)
        m = _RELATIVE.match(text)
        if m:
            n, unit = int(m.group(1)), m.group(2)
            if unit.startswith("mi"):
                return now - timedelta(minutes=n)
            if unit.startswith("h"):
                return now - timedelta(hours=n)
            if unit.startswith("d"):
                return now - timedelta(days=n)
            if unit.startswith("w"):
                return now - timedelta(weeks=n)
            if unit.startswith("m"):
                return _minus_months(now, n)
            return _minus_months(now, 12 * n)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return _day_start(day + timedelta(days=1 if end else 0), now)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?",
                        text):
            when = datetime.fromisoformat(text.upper().replace(" ", "T"))
            return when if when.tzinfo else when.replace(tzinfo=now.tzinfo)
    except (ValueError, OverflowError):
        pass
    raise QueryError(f"cannot read {value.strip()!r} as a date or time: {HELP}")
