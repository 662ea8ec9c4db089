"""Crawl level: a source whose server turns hostile keeps its stored articles untouched, and
the other sources in the same run are crawled in full (issue 3). One case per endpoint of
tests/misbehaving_server.py that a feed source can meet; each ends within the deadline
(plus the other source's crawl) with a typed error recorded, or with the right success."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from misbehaving_server import MisbehavingServer, bomb

from aggregator.cli import cli
from aggregator.fixture_server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 1.5  # the per-request deadline in these crawls


def snapshot(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, canonical_url, title, text, source FROM articles"
                        " ORDER BY id").fetchall()
    rows += conn.execute("SELECT article_id, kind, name FROM attributions ORDER BY id").fetchall()
    conn.close()
    return rows


@dataclass(frozen=True)
class Case:
    path: str  # on the misbehaving server; {canary} is the refused listener's port
    error: str | None  # the kind recorded for the source, None: the right success
    robots: str = "404"  # the server's robots.txt mode
    retries: int = 0
    message: str = ""  # part of the recorded error
    #: The server asks its host to wait (Retry-After): the fetcher holds back every request to
    #: that host, and here the other source's site is on the same host (127.0.0.1), so it
    #: is deferred too, with typed errors only, instead of being crawled.
    host_wait: bool = False


CASES = [
    # slow
    Case("/trickle", "timeout"),
    Case("/hang-body", "timeout"),
    Case("/slow-headers", "timeout"),
    # too big
    Case("/huge-cl", "too-large"),
    Case("/huge-nocl", "too-large"),
    Case("/gzip-bomb", "too-large"),
    Case("/deflate-bomb", "too-large"),
    Case("/br-bomb", "too-large"),
    # broken
    Case("/truncated", "bad-content"),
    Case("/truncated-gzip", "bad-content"),
    Case("/broken-chunked", "bad-content"),
    Case("/truncated-chunked", "bad-content"),
    Case("/reset", "transport"),
    Case("/pdf", "unsupported-content"),
    Case("/status?code=404", "http"),
    # redirects
    Case("/loop", "redirects"),
    Case("/redirect?to=http://127.0.0.2:{canary}/feed", "blocked"),
    Case("/redirect?to=http://[::ffff:127.0.0.2]:{canary}/feed", "blocked"),
    # rate limits and flakiness
    Case("/limited?status=429&after=600", "http", message="retry after", host_wait=True),
    Case("/limited?status=503&form=date&after=600", "http", message="retry after",
         host_wait=True),
    Case("/flaky?fail=1&kind=feed", None, retries=1),  # 500, then the feed on the retry
    # robots.txt
    Case("/feed", "robots", robots="disallow"),
    Case("/feed", "robots", robots="500"),
    Case("/feed", "robots", robots="hang"),
    Case("/feed", None, robots="huge"),  # over the cap: the first 500 KiB are parsed
    # charsets
    Case("/mislabelled?kind=feed", None),
]


@pytest.fixture(scope="module")
def canary() -> Iterator[MisbehavingServer]:
    """A listener on 127.0.0.2 (refused by the guard): no request may ever reach it."""
    with MisbehavingServer("127.0.0.2") as srv:
        yield srv


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, fixture_site: FixtureServer) -> Path:
    """A database with the articles of one source, crawled from the fixture site once."""
    for kind in ("gzip", "deflate", "br"):
        bomb(kind)  # built before any timing starts
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "seed.db"
    config = write_config(tmp, fixture_site, fixture_site.url("/camerablog/feed.xml"), 0)
    first = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config),
                                     "crawl", "--source", "shutter-notes"])
    assert first.exit_code == 0, first.output
    assert snapshot(db)
    return db


def write_config(folder: Path, fixture_site: FixtureServer, feed_url: str,
                 retries: int) -> Path:
    text = f"""
[fetch]
allow_private = ["127.0.0.1"]
per_host_delay = 0.0
timeout = {TIMEOUT}
retries = {retries}
backoff_base = 0.0
max_bytes = 2000000

[[sources]]
name = "shutter-notes"
kind = "rss"
url = "{feed_url}"
interval = "1h"

[[sources]]
name = "lens-and-light"
kind = "atom"
url = "{fixture_site.base_url}/magazine/atom.xml"
interval = "1h"
"""
    file = folder / "c.toml"
    file.write_text(text, encoding="utf-8")
    return file


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.path} robots={c.robots}")
def test_hostile_feed_leaves_stored_articles_untouched(
    tmp_path: Path, fixture_site: FixtureServer, seeded: Path, canary: MisbehavingServer,
    case: Case,
) -> None:
    db = tmp_path / "h.db"
    shutil.copyfile(seeded, db)
    before = snapshot(db)
    canary_hits = len(canary.log)

    with MisbehavingServer(robots=case.robots) as bad:
        url = bad.url(case.path.format(canary=canary.port))
        config = write_config(tmp_path, fixture_site, url, case.retries)
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "crawl"])
        elapsed = time.monotonic() - started
        feed_requests = sum(1 for r in bad.log if r.path != "/robots.txt")
    assert elapsed < TIMEOUT + 1 + 3  # the deadline, plus the other source's crawl
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert len(canary.log) == canary_hits  # zero requests to a refused target
    after = snapshot(db)
    assert set(before) <= set(after)  # nothing stored was changed or lost
    conn = sqlite3.connect(db)
    if case.host_wait:
        assert feed_requests == 1  # asked once, then left alone
        other = [m for (m,) in conn.execute(
            "SELECT message FROM fetch_errors WHERE source = 'lens-and-light'")]
        assert all("asked us to wait" in m for m in other), other
    else:
        assert result.exit_code == 0, result.output  # the other source was crawled
        assert conn.execute("SELECT count(*) FROM articles WHERE source = 'lens-and-light'"
                            ).fetchone()[0] >= 5
    streak, error = conn.execute(
        "SELECT error_streak, last_error FROM sources WHERE name = 'shutter-notes'").fetchone()
    if case.error is None:
        assert "FAILED" not in result.output and streak == 0 and error is None
    else:
        assert "FAILED" in result.output
        assert streak == 1 and error.startswith(f"{case.error}: "), error
        assert case.message in error
        if case.error == "robots":
            assert feed_requests == 0  # disallowed: the feed itself was never asked for
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
