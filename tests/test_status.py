"""Health and ``aggregator status`` on a hand-filled database (real SQLite file via Store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.health import ArticleSample, collect, extraction_health, shares
from aggregator.models import Article, Source
from aggregator.store import Store
from aggregator.store.schedule_state import record_run, save_schedule

NOW = datetime.now(UTC).replace(microsecond=0)
BODY = "A long enough paragraph about a new camera sensor. " * 10

CONFIG = """
[[sources]]
name = "good"
title = "Good blog"
kind = "rss"
url = "http://127.0.0.1:9/good.xml"
interval = "1h"

[[sources]]
name = "broken"
title = "Broken feed"
kind = "rss"
url = "http://127.0.0.1:9/broken.xml"
interval = "30m"

[[sources]]
name = "changed"
title = "Site that changed its layout"
kind = "rss"
url = "http://127.0.0.1:9/changed.xml"
interval = "2h"
"""


def src(name: str, interval: int = 3600) -> Source:
    return Source(name, name.title(), "feed", f"http://127.0.0.1:9/{name}.xml", interval)


def add(store: Store, source: str, n: int, *, fetched: datetime, text: str = BODY,
        dated: bool = True, authored: bool = True, start: int = 0) -> None:
    for i in range(start, start + n):
        url = f"http://127.0.0.1:9/{source}/{i}.html"
        # distinct texts: an exact copy would be stored as an alias of the first
        art = Article(url=url, title=f"{source} story {i}", text=f"{text} [{source}-{i}]",
                      authors=("Ana Example",) if authored else (),
                      published=fetched - timedelta(hours=1) if dated else None)
        store.save_article(art, source=source, canonical_url=url, aliases=[],
                           fetched=fetched - timedelta(seconds=n - i))


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "health.db"
    with Store.open(path) as store:
        store.sync_sources([src("good"), src("broken", 1800), src("changed", 7200)])
        # good: 3 today, 5 this week, 10 older
        add(store, "good", 3, fetched=NOW - timedelta(hours=2))
        add(store, "good", 5, fetched=NOW - timedelta(days=3), start=3)
        add(store, "good", 10, fetched=NOW - timedelta(days=30), start=8)
        store.record_source_check("good", now=NOW - timedelta(minutes=5), status=200, ok=True,
                                  next_check=NOW + timedelta(minutes=55))
        save_schedule(store, "good", next_check=NOW + timedelta(minutes=55),
                      current_interval=2400)
        # broken: failed three times in a row
        store.record_source_check("broken", now=NOW - timedelta(hours=5), status=200, ok=True)
        for k in range(3):
            store.record_source_check("broken", now=NOW - timedelta(minutes=30 - k), ok=False,
                                      status=503, error="http: HTTP 503",
                                      next_check=NOW + timedelta(hours=2))
        record_run(store, source="broken", started=NOW, finished=NOW, status="failed",
                   http_status=503, message="http: HTTP 503")
        # changed: 40 good articles a month ago, then 10 with no byline, no date, tiny body
        add(store, "changed", 40, fetched=NOW - timedelta(days=20))
        add(store, "changed", 10, fetched=NOW - timedelta(hours=3), text="Share this.",
            dated=False, authored=False, start=40)
        store.record_source_check("changed", now=NOW - timedelta(minutes=1), status=200, ok=True,
                                  next_check=NOW + timedelta(hours=2))
    return path


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


# -- pure -----------------------------------------------------------------------------------
def test_shares() -> None:
    s = shares([ArticleSample(10, True, False), ArticleSample(500, False, False),
                ArticleSample(900, True, True), ArticleSample(0, True, True)])
    assert (s.count, s.short_body, s.no_date, s.no_author) == (4, 0.5, 0.25, 0.5)
    assert shares([]).count == 0


def test_extraction_warning_only_on_a_jump_against_history() -> None:
    good = [ArticleSample(2000, True, True)] * 50
    bad = [ArticleSample(20, False, True)] * 20
    h = extraction_health(bad + good)  # newest first
    assert h.recent.short_body == 1.0 and h.history.short_body == 0.0
    assert len(h.warnings) == 2
    assert "empty or very short body: 100% of the last 20 articles, 0% before" in h.warnings[0]
    assert "no date" in h.warnings[1]
    # always without author is how this site is, not a change
    no_author = [ArticleSample(2000, True, False)] * 70
    assert extraction_health(no_author).warnings == ()
    # too little history or too few recent articles: no judgement
    assert extraction_health(bad + good[:5]).warnings == ()
    assert extraction_health(bad[:3]).warnings == ()
    # a small rise is noise
    mixed = [ArticleSample(20, True, True)] * 3 + [ArticleSample(2000, True, True)] * 17
    assert extraction_health(mixed + good).warnings == ()


# -- queries --------------------------------------------------------------------------------
def test_collect_reports_every_number(db: Path) -> None:
    with Store.open(db) as store:
        rows = {r.name: r for r in collect(store, NOW)}
    good, broken, changed = rows["good"], rows["broken"], rows["changed"]
    assert (good.articles_24h, good.articles_7d, good.articles) == (3, 8, 18)
    assert good.state == "ok" and not good.failing and good.error_streak == 0
    assert good.current_interval == 2400
    assert good.next_check == (NOW + timedelta(minutes=55)).isoformat()
    assert broken.state == "failing" and broken.error_streak == 3
    assert broken.last_error == "http: HTTP 503"
    assert broken.last_success == (NOW - timedelta(hours=5)).isoformat()
    assert broken.current_interval == 1800  # no adaptive interval yet: the configured one
    assert changed.state == "warning"
    assert changed.extraction is not None and changed.extraction.recent.count == 20
    assert {w.split(":")[0] for w in changed.warnings} == {
        "empty or very short body", "no date", "no author"}


def test_status_json_and_exit_code(db: Path, config: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "status",
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["failing"] == 1
    assert [s["name"] for s in data["sources"]] == ["good", "broken", "changed"]
    broken = data["sources"][1]
    assert broken["failing"] is True and broken["error_streak"] == 3
    assert {"last_success", "last_error", "next_check", "current_interval", "articles_24h",
            "articles_7d", "extraction", "warnings", "state"} <= set(broken)
    assert data["sources"][2]["extraction"]["recent"]["no_author"] == 0.5


def test_status_table(db: Path, config: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "status"])
    assert result.exit_code == 1
    out = result.output
    assert "broken" in out and "failing" in out and "last error: http: HTTP 503" in out
    assert "warning: no date" in out
    assert "1 failing: broken" in out


def test_status_exit_zero_when_nothing_fails(db: Path, config: Path) -> None:
    with Store.open(db) as store:
        store.record_source_check("broken", now=NOW, status=200, ok=True)
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    # --fail-after: a single failure is tolerated when asked
    with Store.open(db) as store:
        store.record_source_check("broken", now=NOW, status=500, ok=False, error="http: 500")
    args = ["--db", str(db), "--config", str(config), "status"]
    assert CliRunner().invoke(cli, args).exit_code == 1
    assert CliRunner().invoke(cli, [*args, "--fail-after", "2"]).exit_code == 0


def test_status_without_config_uses_the_database(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "--config", str(tmp_path / "none.toml"),
                                      "status", "--format", "json"])
    names = sorted(s["name"] for s in json.loads(result.output)["sources"])
    assert names == ["broken", "changed", "good"]


def test_status_on_missing_database_is_a_clear_error(tmp_path: Path, config: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "nope.db"), "--config",
                                      str(config), "status"])
    assert result.exit_code != 0
    assert "no such database" in result.output
    assert not (tmp_path / "nope.db").exists()


def test_crawl_runs_are_pruned_per_source(tmp_path: Path) -> None:
    from aggregator.store.schedule_state import recent_runs

    with Store.open(tmp_path / "runs.db") as store:
        store.sync_sources([src("a"), src("b")])
        old = NOW - timedelta(days=200)
        record_run(store, source="b", started=old, finished=old, status="ok")
        for day in (100, 95, 10, 0):
            when = NOW - timedelta(days=day)
            record_run(store, source="a", started=when, finished=when, status="ok")
        kept = [r["started"] for r in recent_runs(store, "a")]
        assert kept == [NOW.isoformat(), (NOW - timedelta(days=10)).isoformat()]
        assert len(recent_runs(store, "b")) == 1  # other sources' rows are left alone


def test_overdue_next_check_is_a_warning_not_a_failure(db: Path) -> None:
    with Store.open(db) as store:
        save_schedule(store, "good", next_check=NOW - timedelta(hours=5), current_interval=3600)
        rows = {r.name: r for r in collect(store, NOW)}
    good = rows["good"]
    assert good.state == "warning" and not good.failing
    assert good.warnings == ["next check overdue by 5.0 h (is `aggregator run` running?)"]
