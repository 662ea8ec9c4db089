"""Crawl level: a source whose server turns hostile keeps its stored articles untouched, and
the other sources in the same run are crawled in full (issue 3)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from misbehaving_server import MisbehavingServer

from aggregator.cli import cli
from aggregator.fixture_server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent


def snapshot(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, canonical_url, title, text, source FROM articles"
                        " ORDER BY id").fetchall()
    rows += conn.execute("SELECT article_id, kind, name FROM attributions ORDER BY id").fetchall()
    conn.close()
    return rows


@pytest.mark.parametrize("path", ["/gzip-bomb", "/trickle", "/truncated", "/broken-chunked",
                                  "/loop", "/huge-cl", "/pdf", "/hang-body"])
def test_hostile_feed_leaves_stored_articles_untouched(
    tmp_path: Path, fixture_site: FixtureServer, path: str
) -> None:
    db = tmp_path / "h.db"

    def config(feed_url: str) -> Path:
        text = f"""
[fetch]
allow_private = ["127.0.0.1"]
per_host_delay = 0.0
timeout = 1.5
retries = 0
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
        file = tmp_path / "c.toml"
        file.write_text(text, encoding="utf-8")
        return file

    first = CliRunner().invoke(cli, ["--db", str(db), "--config",
                                     str(config(fixture_site.url("/camerablog/feed.xml"))),
                                     "crawl", "--source", "shutter-notes"])
    assert first.exit_code == 0, first.output
    before = snapshot(db)
    assert before

    with MisbehavingServer() as bad:
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["--db", str(db), "--config",
                                          str(config(bad.url(path))), "crawl"])
        elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output  # the other source was crawled
    assert elapsed < 1.5 + 1 + 3  # the deadline, plus the other source's crawl
    assert "FAILED" in result.output and "Traceback" not in result.output
    after = snapshot(db)
    assert set(before) <= set(after)  # nothing stored was changed or lost
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM articles WHERE source = 'lens-and-light'"
                        ).fetchone()[0] >= 5
    streak, error = conn.execute(
        "SELECT error_streak, last_error FROM sources WHERE name = 'shutter-notes'").fetchone()
    assert streak == 1 and error
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
