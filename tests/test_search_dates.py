"""--since/--until values against an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.errors import QueryError
from aggregator.search.dates import parse_when

NOW = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("value,expected", [
    ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T10:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ("2024-05-01 10:00:30", datetime(2024, 5, 1, 10, 0, 30, tzinfo=UTC)),
    ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ("2024-05-01T10:00+02:00", datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=2)))),
    ("7d", NOW - timedelta(days=7)), ("7 days", NOW - timedelta(days=7)),
    ("2w", NOW - timedelta(weeks=2)), ("2 weeks ago", NOW - timedelta(weeks=2)),
    ("12h", NOW - timedelta(hours=12)), ("30min", NOW - timedelta(minutes=30)),
    ("1m", datetime(2026, 2, 28, 15, 30, tzinfo=UTC)),  # March 31 -> Feb 28
    ("3m", datetime(2025, 12, 31, 15, 30, tzinfo=UTC)),
    ("1y", datetime(2025, 3, 31, 15, 30, tzinfo=UTC)),
    ("today", datetime(2026, 3, 31, tzinfo=UTC)), ("Yesterday", datetime(2026, 3, 30, tzinfo=UTC)),
    ("now", NOW), ("  7D  ", NOW - timedelta(days=7)),
])
def test_parse_when(value: str, expected: datetime) -> None:
    assert parse_when(value, NOW) == expected


@pytest.mark.parametrize("value,expected", [
    ("2024-05-01", datetime(2024, 5, 2, tzinfo=UTC)),
    ("today", datetime(2026, 4, 1, tzinfo=UTC)),
    ("yesterday", datetime(2026, 3, 31, tzinfo=UTC)),
    ("7d", NOW - timedelta(days=7)),
])
def test_until_means_end_of_day(value: str, expected: datetime) -> None:
    assert parse_when(value, NOW, end=True) == expected


def test_leap_day_minus_a_year() -> None:
    now = datetime(2024, 2, 29, tzinfo=UTC)
    assert parse_when("1y", now) == datetime(2023, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "", "soon", "7", "d7", "-7d", "2024-13-01", "2024-02-30", "2024/05/01", "7 parsecs",
    "99999y", "2024-05-01T25:00", "last tuesday",
])
def test_junk_is_one_line_error(value: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_when(value, NOW)
    msg = str(err.value)
    assert "\n" not in msg and "7d" in msg
