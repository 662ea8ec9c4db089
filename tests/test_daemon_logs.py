"""Run log lines: text for people, JSON for machines, one whole line per event."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from aggregator.logs import FetchEvent, RunEvent, RunLogger, human_bytes, human_seconds

T = datetime(2026, 11, 22, 2, 10, 3, tzinfo=UTC)


def logger(fmt: str) -> tuple[RunLogger, io.StringIO]:
    out = io.StringIO()
    return RunLogger(out, fmt, clock=lambda: T), out


def test_text_lines() -> None:
    log, out = logger("text")
    log.fetch(FetchEvent("blog", "http://127.0.0.1/f.xml", 200, 12700, 38.4))
    log.fetch(FetchEvent("blog", "http://127.0.0.1/x", None, 0, 5000, error="timeout: slow"))
    log.run(RunEvent("blog", "ok", entries=12, new=3, errors=1, ms=812, interval=1860,
                     next_check="2026-11-22T02:41:17+00:00", reason="interval"))
    log.run(RunEvent("bad", "failed", entries=0, new=0, errors=1, ms=5, interval=3600,
                     next_check="2026-11-22T04:10:03+00:00", reason="backoff",
                     error="http: HTTP 503"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "2026-11-22T02:10:03Z fetch  blog 200 12.4kB 38ms http://127.0.0.1/f.xml"
    assert lines[1].endswith("--- 0B 5000ms http://127.0.0.1/x  error: timeout: slow")
    assert lines[2] == ("2026-11-22T02:10:03Z source blog ok 3 new/12 entries 1 error 812ms "
                        "next 2026-11-22T02:41:17+00:00 (every 31m)")
    assert "(every 1h, backoff)  error: http: HTTP 503" in lines[3]


def test_json_lines() -> None:
    log, out = logger("json")
    log.fetch(FetchEvent("blog", "http://127.0.0.1/f.xml", 304, 0, 3.2,
                         final_url="http://127.0.0.1/f.xml"))
    log.run(RunEvent("blog", "not-modified", 0, 0, 0, 9.0))
    log.info("stopped", cancelled=0)
    log.error("blog", "http://127.0.0.1/v.html", "no-article", "video-only page")
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0] == {"ts": "2026-11-22T02:10:03Z", "event": "fetch", "source": "blog",
                       "url": "http://127.0.0.1/f.xml", "status": 304, "bytes": 0, "ms": 3.2,
                       "error": None, "final_url": "http://127.0.0.1/f.xml"}
    assert rows[1]["event"] == "source" and rows[1]["status"] == "not-modified"
    assert rows[2] == {"ts": "2026-11-22T02:10:03Z", "event": "info", "message": "stopped",
                       "cancelled": 0}
    assert rows[3] == {"ts": "2026-11-22T02:10:03Z", "event": "error", "source": "blog",
                       "url": "http://127.0.0.1/v.html", "kind": "no-article",
                       "message": "video-only page"}


def test_closed_stream_never_raises() -> None:
    log, out = logger("text")
    out.close()
    log.info("nobody listens")


def test_bad_format() -> None:
    with pytest.raises(ValueError):
        RunLogger(io.StringIO(), "xml")


def test_human_units() -> None:
    assert [human_bytes(n) for n in (0, 1023, 2048, 5 * 1024 * 1024)] == [
        "0B", "1023B", "2.0kB", "5.0MB"]
    assert [human_seconds(s) for s in (None, 0, 45, 90, 1800, 5400, 86400, 93600)] == [
        "-", "0s", "45s", "1m30s", "30m", "1h30m", "1d", "1d2h"]
