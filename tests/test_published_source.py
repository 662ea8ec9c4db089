"""The date an article is filed under: the page's own, else the feed entry's; both kept, and
`show` says which one is used."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.models import Article, Entry
from aggregator.store import Store

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
WORDS = ["lens", "sensor", "shutter", "dealer", "price", "grip", "mount", "zoom", "prime"]


def prose(seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(90)) + "."


def save(store: Store, n: int, page: datetime | None, feed: datetime | None) -> int:
    url = f"http://127.0.0.1:9/a/{n}.html"
    art = Article(url=url, title=f"Story number {n}", text=prose(n), published=page)
    entry = Entry(url=url, published=feed)
    return store.save_article(art, source="blog", canonical_url=url, aliases=[],
                              fetched=NOW, entry=entry).article_id


def test_page_date_first_then_feed_date_and_show_says_which(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with Store.open(path) as store:
        agree = save(store, 1, NOW - timedelta(days=1), NOW - timedelta(days=1))
        differ = save(store, 2, NOW - timedelta(days=2), NOW - timedelta(days=1, hours=3))
        feed_only = save(store, 3, None, NOW - timedelta(days=3))
        undated = save(store, 4, None, None)
        rows = {r[0]: r[1:] for r in store.conn.execute(
            "SELECT id, published, published_source, feed_published FROM articles")}
    assert rows[agree][1] == "page" and rows[differ][1] == "page"
    assert rows[feed_only] == (rows[feed_only][2], "feed", rows[feed_only][2])
    assert rows[feed_only][0].startswith("2026-10-29")
    assert rows[undated] == (None, None, None)

    runner = CliRunner()

    def show(ident: int) -> str:
        res = runner.invoke(cli, ["--db", str(path), "show", str(ident)])
        assert res.exit_code == 0, res.output
        return next(line for line in res.output.splitlines() if line.startswith("Published"))

    assert "(" not in show(agree)
    assert "the page's date; the feed says 2026-10-31T09:00" in show(differ)
    assert "the feed's date; the page states none" in show(feed_only)
    data = json.loads(runner.invoke(cli, ["--db", str(path), "show", str(feed_only),
                                          "--format", "json"]).output)
    assert data["published_source"] == "feed" and data["feed_published"] == data["published"]

    # a date filter finds the article filed under its feed date (--until includes its day)
    res = runner.invoke(cli, ["--db", str(path), "search", "lens", "--all", "--since",
                              "2026-10-29", "--until", "2026-10-29", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert [h["id"] for h in json.loads(res.output)] == [feed_only]


def test_version_6_rows_without_a_page_date_take_the_feed_date(tmp_path: Path) -> None:
    import sqlite_utils

    from aggregator.store.db import configure_connection
    from aggregator.store.schema import MIGRATIONS

    path = tmp_path / "v6.db"
    db = sqlite_utils.Database(path)
    configure_connection(db.conn)  # the name-folding function version 6 indexes with
    for step in range(1, 7):
        MIGRATIONS[step](db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '6')")
    db.conn.executemany(
        "INSERT INTO articles (id, url, canonical_url, title, text, fetched, published,"
        " feed_published) VALUES (?, ?, ?, 't', 'x', '2026-10-01T00:00:00Z', ?, ?)",
        [(1, "u1", "u1", "2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z"),
         (2, "u2", "u2", None, "2026-09-03T00:00:00Z"), (3, "u3", "u3", None, None)])
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        rows = [(a["id"], a["published"], a["published_source"])
                for a in map(store.article, (1, 2, 3)) if a]
    assert rows == [(1, "2026-09-01T00:00:00Z", "page"), (2, "2026-09-03T00:00:00Z", "feed"),
                    (3, None, None)]
