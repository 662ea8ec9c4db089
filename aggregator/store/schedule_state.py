"""Scheduling state in the store: next checks, adaptive intervals, crawl-run history.

Small additive functions taking a :class:`~aggregator.store.Store`; every write is one
immediate transaction, so a crash leaves each row either before or after the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.store.db import Store, iso

RUNS_KEPT_DAYS = 90.0


@dataclass(frozen=True)
class StoredSchedule:
    next_check: datetime | None
    current_interval: int | None
    error_streak: int
    last_new_at: datetime | None
    retry_after_until: datetime | None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def load_schedules(store: Store) -> dict[str, StoredSchedule]:
    rows = store.conn.execute(
        "SELECT name, next_check, current_interval, error_streak, last_new_at,"
        " retry_after_until FROM sources"
    ).fetchall()
    return {
        r[0]: StoredSchedule(parse_time(r[1]), int(r[2]) if r[2] else None, int(r[3] or 0),
                             parse_time(r[4]), parse_time(r[5]))
        for r in rows
    }


def save_schedule(store: Store, name: str, *, next_check: datetime, current_interval: float,
                  new_at: datetime | None = None,
                  retry_after_until: datetime | None = None) -> None:
    """Store the next check and the adaptive interval (and when new items last appeared)."""
    with store.transaction():
        store.conn.execute(
            "UPDATE sources SET next_check = ?, current_interval = ?,"
            " last_new_at = COALESCE(?, last_new_at), retry_after_until = ? WHERE name = ?",
            (iso(next_check), int(round(current_interval)), iso(new_at), iso(retry_after_until),
             name),
        )


def record_run(store: Store, *, source: str, started: datetime, finished: datetime,
               status: str, http_status: int | None = None, entries: int = 0, new: int = 0,
               errors: int = 0, message: str | None = None,
               keep_days: float = RUNS_KEPT_DAYS) -> int:
    """One row in ``crawl_runs`` per source check (ok, not-modified, failed, cancelled).
    The source's rows older than ``keep_days`` go in the same transaction, so the table
    stays bounded in a daemon that runs for months."""
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO crawl_runs (source, started, finished, status, http_status, entries,"
            " new, errors, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source, iso(started), iso(finished), status, http_status, entries, new, errors,
             message),
        )
        store.conn.execute("DELETE FROM crawl_runs WHERE source = ? AND started < ?",
                           (source, iso(started - timedelta(days=keep_days))))
        return int(cur.lastrowid or 0)


def publish_times(store: Store, source: str, *, limit: int = 200) -> list[datetime]:
    """Publish dates (article, else feed entry) of the source's newest dated articles."""
    rows = store.conn.execute(
        "SELECT COALESCE(published, feed_published) AS p FROM articles"
        " WHERE source = ? AND p IS NOT NULL ORDER BY p DESC LIMIT ?", (source, limit),
    ).fetchall()
    return [t for t in (parse_time(r[0]) for r in rows) if t is not None]


def recent_runs(store: Store, source: str, *, limit: int = 20) -> list[dict[str, object]]:
    return store._all(
        "SELECT * FROM crawl_runs WHERE source = ? ORDER BY id DESC LIMIT ?", (source, limit)
    )


def articles_since(store: Store, now: datetime, periods: Mapping[str, float]
                   ) -> dict[str, dict[str, int]]:
    """Per source, the number of articles fetched within each period (seconds) before now."""
    out: dict[str, dict[str, int]] = {}
    for label, seconds in periods.items():
        since = iso(now - timedelta(seconds=seconds))
        for name, count in store.conn.execute(
            "SELECT source, count(*) FROM articles WHERE fetched >= ? GROUP BY source", (since,)
        ):
            out.setdefault(name, {})[label] = int(count)
    return out
