"""The pure scheduling rules: adaptive interval, server hints, backoff, jitter, restarts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from aggregator.models import Source
from aggregator.schedule import (
    DAY,
    WEEK,
    Hints,
    IntervalLimits,
    adaptive_interval,
    cache_max_age,
    default_limits,
    expires_in,
    feed_ttl,
    jittered,
    limits_for,
    next_check,
    server_hints,
    start_times,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
HOUR = 3600.0


def every(gap: timedelta, n: int, end: datetime = NOW) -> list[datetime]:
    return [end - gap * i for i in range(n)]


# -- limits ---------------------------------------------------------------------------------
def test_default_limits_around_the_configured_interval() -> None:
    assert default_limits(3600) == IntervalLimits(900, 8 * 3600)
    assert default_limits(120) == IntervalLimits(60, 960)  # at least a minute
    assert default_limits(30) == IntervalLimits(30, 240)  # never above the interval itself
    assert default_limits(6 * 3600) == IntervalLimits(5400, DAY)  # at most a day ...
    assert default_limits(2 * DAY).maximum == 2 * DAY  # ... unless the interval is longer
    assert default_limits(3600, minimum=600, maximum=7200) == IntervalLimits(600, 7200)


def test_limits_read_optional_source_attributes() -> None:
    src = Source("a", "A", "feed", "http://127.0.0.1/f", 3600)
    assert limits_for(src) == default_limits(3600)

    class WithBounds:
        interval = 3600
        min_interval = 300
        max_interval = 4 * 3600

    assert limits_for(WithBounds()) == IntervalLimits(300, 4 * 3600)


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        IntervalLimits(0, 10)
    with pytest.raises(ValueError):
        IntervalLimits(10, 5)


# -- adaptive interval ----------------------------------------------------------------------
LIMITS = IntervalLimits(15 * 60, 8 * HOUR)


def test_busy_source_is_checked_more_often() -> None:
    # 12 items a day -> a 2 h gap -> checked every hour
    times = every(timedelta(hours=2), 7 * 12)
    assert adaptive_interval(HOUR * 2, times, NOW, LIMITS) == pytest.approx(HOUR, rel=0.02)


def test_very_busy_source_stops_at_the_minimum() -> None:
    times = every(timedelta(minutes=5), 500)
    assert adaptive_interval(HOUR, times, NOW, LIMITS) == LIMITS.minimum


def test_slow_source_is_checked_less_often_up_to_the_maximum() -> None:
    # two items a week -> 3.5 day gap -> capped at the maximum
    times = [NOW - timedelta(days=1), NOW - timedelta(days=5), NOW - timedelta(days=20)]
    assert adaptive_interval(HOUR, times, NOW, LIMITS) == LIMITS.maximum
    # one item a day over the week -> 12 h, capped at 8 h
    times = every(timedelta(days=1), 7)
    assert adaptive_interval(HOUR, times, NOW, LIMITS) == LIMITS.maximum
    times = every(timedelta(hours=6), 28)  # 4 a day -> 3 h
    assert adaptive_interval(HOUR, times, NOW, LIMITS) == pytest.approx(3 * HOUR, rel=0.05)


def test_quiet_source_slows_down_step_by_step() -> None:
    old = [NOW - timedelta(days=30), NOW - timedelta(days=40)]
    first = adaptive_interval(HOUR, old, NOW, LIMITS)
    assert first == pytest.approx(1.5 * HOUR)
    second = adaptive_interval(HOUR, old, NOW, LIMITS, previous=first)
    assert second == pytest.approx(2.25 * HOUR)
    values = [first]
    for _ in range(20):
        values.append(adaptive_interval(HOUR, old, NOW, LIMITS, previous=values[-1]))
    assert values == sorted(values)
    assert values[-1] == LIMITS.maximum


def test_no_dated_history_keeps_the_configured_interval() -> None:
    assert adaptive_interval(HOUR, [], NOW, LIMITS) == HOUR
    assert adaptive_interval(HOUR, [], NOW, LIMITS, previous=2 * HOUR) == 2 * HOUR
    assert adaptive_interval(HOUR * 100, [], NOW, LIMITS) == LIMITS.maximum


def test_new_source_is_measured_over_its_age_not_the_whole_week() -> None:
    # first crawl of a new source: 10 items over the last 10 hours -> 1 h gap -> 30 min
    times = every(timedelta(hours=1), 10)
    assert adaptive_interval(HOUR, times, NOW, LIMITS) == pytest.approx(
        9 * HOUR / 10 / 2, rel=0.01)
    # ... but a burst of items all dated "now" is measured over at least one interval
    burst = [NOW] * 20
    assert adaptive_interval(HOUR, burst, NOW, LIMITS) == LIMITS.minimum


def test_future_dates_count_as_now_and_naive_times_as_utc() -> None:
    times = [NOW + timedelta(days=300)] + every(timedelta(hours=2), 84)[1:]
    naive = [t.replace(tzinfo=None) for t in every(timedelta(hours=2), 84)]
    a = adaptive_interval(2 * HOUR, times, NOW, LIMITS)
    b = adaptive_interval(2 * HOUR, naive, NOW.replace(tzinfo=None), LIMITS)
    assert a == pytest.approx(b, rel=0.02)


# -- server hints ---------------------------------------------------------------------------
def test_cache_control_max_age() -> None:
    assert cache_max_age("public, max-age=1800") == 1800
    assert cache_max_age("max-age=60, s-maxage=600") == 600
    assert cache_max_age('max-age="120"') == 120
    assert cache_max_age("no-cache") is None
    assert cache_max_age("no-store, max-age=600") is None
    assert cache_max_age("max-age=0") is None
    assert cache_max_age(None) is None
    assert cache_max_age("private") is None


def test_expires_against_the_date_header() -> None:
    assert expires_in(format_datetime(NOW + timedelta(hours=2), usegmt=True), NOW) == 7200
    # the server's clock is 1 h behind ours: its Expires is 30 min after its Date
    date = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    exp = format_datetime(NOW - timedelta(minutes=30), usegmt=True)
    assert expires_in(exp, NOW, date) == 1800
    assert expires_in("0", NOW) is None
    assert expires_in(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) is None
    assert expires_in("garbage", NOW) is None


def test_feed_ttl_and_syndication_module() -> None:
    assert feed_ttl(b"<rss><channel><ttl>90</ttl></channel></rss>") == 5400
    assert feed_ttl(b"<rss><channel><ttl>0</ttl></channel></rss>") is None
    sy = (b"<rss xmlns:sy='http://purl.org/rss/1.0/modules/syndication/'><channel>"
          b"<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>")
    assert feed_ttl(sy) == 1800
    assert feed_ttl(b"<sy:updatePeriod>daily</sy:updatePeriod>") == DAY
    assert feed_ttl(b"<rss><channel><title>x</title></channel></rss>") is None


def test_server_hints_from_headers() -> None:
    h = server_hints([("Cache-Control", "max-age=7200"), ("Retry-After", "120")], NOW,
                     content=b"<rss><channel><ttl>30</ttl>", is_feed=True)
    assert h == Hints(retry_after=120, max_age=7200, expires=None, ttl=1800)
    # Expires is ignored when max-age is present (RFC 9111)
    exp = format_datetime(NOW + timedelta(days=2), usegmt=True)
    assert server_hints({"cache-control": "max-age=60", "expires": exp}, NOW).expires is None
    assert server_hints({"expires": exp}, NOW).expires == 2 * DAY
    # a page's <ttl> text is not a feed hint
    assert server_hints({}, NOW, content=b"<ttl>30</ttl>", is_feed=False).ttl is None
    # Retry-After as an HTTP date; an already-parsed value wins
    when = format_datetime(NOW + timedelta(minutes=10), usegmt=True)
    assert server_hints({"Retry-After": when}, NOW).retry_after == 600
    assert server_hints({"Retry-After": when}, NOW, retry_after=5).retry_after == 5


def test_hint_delay_is_clamped() -> None:
    assert Hints(max_age=30 * DAY).delay(8 * HOUR) == 8 * HOUR
    assert Hints(ttl=2 * HOUR, expires=HOUR).delay(8 * HOUR) == 2 * HOUR
    assert Hints(retry_after=3 * DAY).delay(8 * HOUR, retry_cap=DAY) == DAY
    assert Hints().delay(8 * HOUR) == 0


# -- the decision -------------------------------------------------------------------------
def test_next_check_plain_interval_with_jitter() -> None:
    rng = random.Random(7)
    seen = set()
    for _ in range(200):
        nc = next_check(NOW, HOUR, limits=LIMITS, rng=rng)
        assert nc.reason == "interval"
        assert 0.9 * HOUR <= nc.delay <= 1.1 * HOUR
        assert nc.at == NOW + timedelta(seconds=nc.delay)
        seen.add(round(nc.delay))
    assert len(seen) > 50  # really jittered
    nc = next_check(NOW, HOUR, limits=LIMITS, rng=rng, jitter=0)
    assert nc.delay == HOUR


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    a = [jittered(100, random.Random(3)) for _ in range(3)]
    b = [jittered(100, random.Random(3)) for _ in range(3)]
    assert a == b


def test_hints_push_the_next_check_later_never_sooner() -> None:
    rng = random.Random(1)
    later = next_check(NOW, HOUR, limits=LIMITS, hints=Hints(max_age=3 * HOUR), rng=rng,
                       jitter=0)
    assert (later.delay, later.reason) == (3 * HOUR, "hint")
    sooner = next_check(NOW, HOUR, limits=LIMITS, hints=Hints(max_age=60), rng=rng, jitter=0)
    assert (sooner.delay, sooner.reason) == (HOUR, "interval")
    capped = next_check(NOW, HOUR, limits=LIMITS, hints=Hints(ttl=WEEK), rng=rng, jitter=0)
    assert capped.delay == LIMITS.maximum


def test_error_backoff_grows_to_a_cap_and_never_drops_the_source() -> None:
    rng = random.Random(1)
    delays = [next_check(NOW, HOUR, limits=LIMITS, error_streak=s, rng=rng, jitter=0).delay
              for s in range(1, 12)]
    assert delays[:4] == [HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR]
    assert delays == sorted(delays)
    assert delays[-1] == DAY
    failing = next_check(NOW, HOUR, limits=LIMITS, error_streak=3, rng=rng, jitter=0)
    assert failing.reason == "backoff"
    # Retry-After longer than the backoff wins
    ra = next_check(NOW, HOUR, limits=LIMITS, error_streak=1, hints=Hints(retry_after=5 * HOUR),
                    rng=rng, jitter=0)
    assert (ra.delay, ra.reason) == (5 * HOUR, "hint")


def test_restart_resumes_stored_schedule_and_spreads_overdue_sources() -> None:
    rng = random.Random(5)
    intervals = {f"s{i}": HOUR for i in range(20)}
    stored: dict[str, datetime | None] = {n: None for n in intervals}
    stored["s0"] = NOW + timedelta(minutes=40)  # ahead: kept exactly
    stored["s1"] = NOW - timedelta(hours=3)  # overdue: soon
    plan = start_times(stored, intervals, NOW, rng, spread=60)
    assert plan["s0"] == NOW + timedelta(minutes=40)
    soon = [plan[n] for n in intervals if n != "s0"]
    assert all(NOW <= t <= NOW + timedelta(seconds=60) for t in soon)
    assert len(set(soon)) == len(soon)  # not all at the same instant
    # a source with a 10 s interval is spread over at most 10 s
    tiny = start_times({"x": None}, {"x": 10.0}, NOW, rng, spread=60)
    assert tiny["x"] <= NOW + timedelta(seconds=10)
    assert start_times({"x": None}, {"x": 10.0}, NOW, rng, spread=0)["x"] == NOW
