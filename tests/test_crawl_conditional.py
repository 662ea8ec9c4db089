"""Conditional GET per URL at crawl level (issue 3): every fetched feed or listing URL keeps
its own validators, so a 304 on one URL never hides changes at another, and a 304 costs no
parsing and changes nothing stored. Real FixtureServer (ETag/304) and a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.config import Settings, parse_config
from aggregator.crawl import CrawlSummary, run_crawl
from aggregator.fixture_server import FixtureServer
from aggregator.store import Store

PARA = ("Paragraph {i} of the report on the weatherproof zoom lens that Kestrel Optics "
        "announced today, with a new coating and a quieter focus motor than before.")


def write_post(root: Path, path: str, title: str) -> None:
    body = "".join(f"<p>{PARA.format(i=i)} ({title})</p>" for i in range(5))
    file = root / path.lstrip("/")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='author' content='Ana Example'></head><body><article><h1>{title}</h1>"
        f"{body}</article></body></html>", encoding="utf-8")


def write_feed(root: Path, numbers: list[int], *, ttl: int | None = None) -> None:
    items = "".join(
        f"<item><title>Story {n}</title><link>{{{{BASE}}}}/blog/posts/{n}.html</link></item>"
        for n in numbers)
    for n in numbers:
        write_post(root, f"/blog/posts/{n}.html", f"Story {n}")
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    (root / "blog" / "feed.xml").write_text(
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Blog</title>"
        f"<link>{{{{BASE}}}}/blog/</link>{ttl_tag}{items}</channel></rss>", encoding="utf-8")


def write_listing(root: Path, page: int, numbers: list[int], *, last: bool) -> None:
    links = "".join(f"<li><a class='story' href='/press/{n}.html'>Release {n}</a></li>"
                    for n in numbers)
    for n in numbers:
        write_post(root, f"/press/{n}.html", f"Release {n}")
    nxt = "" if last else f"<a class='next' href='/press/page-{page + 1}.html'>Older</a>"
    (root / "press" / f"page-{page}.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Press {page}</title></head>"
        f"<body><ul>{links}</ul>{nxt}</body></html>", encoding="utf-8")


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[Path, FixtureServer]]:
    root = tmp_path / "site"
    (root / "blog").mkdir(parents=True)
    (root / "press").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    # The source URL is an HTML page that announces its feed (feed discovery).
    (root / "blog" / "index.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Blog</title>"
        "<link rel='alternate' type='application/rss+xml' href='/blog/feed.xml'></head>"
        "<body><p>Welcome.</p></body></html>", encoding="utf-8")
    write_feed(root, [1, 2])
    write_listing(root, 1, [1, 2], last=False)
    write_listing(root, 2, [3], last=True)
    with FixtureServer(root) as server:
        yield root, server


def settings_for(base: str) -> Settings:
    return parse_config({
        "fetch": {"allow_private": ["127.0.0.1"], "per_host_delay": 0.0, "retries": 0,
                  "timeout": 5.0},
        "sources": [
            {"name": "blog", "kind": "feed", "url": base + "/blog/index.html",
             "interval": "1h"},
            {"name": "press", "kind": "listing", "url": base + "/press/page-1.html",
             "interval": "1h", "link_selector": "a.story", "next_selector": "a.next"},
        ],
    })


def crawl(settings: Settings, db: Path) -> dict[str, str]:
    with Store.open(db) as store:
        summary: CrawlSummary = asyncio.run(run_crawl(settings, store, settings.sources))
    assert not summary.errors, summary.errors
    return {r.name: r.status for r in summary.reports}


def stored(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, url, title, text FROM articles ORDER BY id").fetchall()
    conn.close()
    return rows


def test_validators_are_kept_per_url(site: tuple[Path, FixtureServer], tmp_path: Path) -> None:
    _root, server = site
    db = tmp_path / "c.db"
    assert crawl(settings_for(server.base_url), db) == {"blog": "ok", "press": "ok"}
    conn = sqlite3.connect(db)
    cache = {r[0].removeprefix(server.base_url): r[1:] for r in conn.execute(
        "SELECT url, etag, last_modified, follow FROM http_cache")}
    conn.close()
    base = server.base_url
    assert cache["/blog/index.html"][2] == base + "/blog/feed.xml"  # the discovered feed
    assert cache["/blog/feed.xml"][2] is None
    assert cache["/press/page-1.html"][2] == base + "/press/page-2.html"
    assert set(cache) == {"/blog/index.html", "/blog/feed.xml", "/press/page-1.html",
                          "/press/page-2.html"}
    assert all(etag and last_modified for etag, last_modified, _ in cache.values())


def test_unchanged_page_does_not_hide_a_changed_discovered_feed(
        site: tuple[Path, FixtureServer], tmp_path: Path) -> None:
    root, server = site
    settings = settings_for(server.base_url)
    db = tmp_path / "d.db"
    crawl(settings, db)
    assert len(stored(db)) == 5
    write_feed(root, [1, 2, 7])  # a new item in the feed; the page announcing it is unchanged
    server.reset_hits()
    assert crawl(settings, db)["blog"] == "ok"
    urls = {row[1].removeprefix(server.base_url) for row in stored(db)}
    assert "/blog/posts/7.html" in urls
    assert server.hits["/blog/index.html"] == 1 and server.hits["/blog/feed.xml"] == 1


def test_later_listing_pages_are_fetched_with_their_own_validators(
        site: tuple[Path, FixtureServer], tmp_path: Path) -> None:
    root, server = site
    settings = settings_for(server.base_url)
    db = tmp_path / "l.db"
    crawl(settings, db)
    write_listing(root, 2, [3, 4], last=True)  # page 1 unchanged (304), page 2 changed
    assert crawl(settings, db)["press"] == "ok"
    urls = {row[1].removeprefix(server.base_url) for row in stored(db)}
    assert "/press/4.html" in urls


def test_all_304_parses_nothing_and_changes_nothing(
        site: tuple[Path, FixtureServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _root, server = site
    settings = settings_for(server.base_url)
    db = tmp_path / "n.db"
    crawl(settings, db)
    before = stored(db)
    conn = sqlite3.connect(db)
    cache_before = conn.execute("SELECT url, etag, last_modified, follow FROM http_cache"
                                " ORDER BY url").fetchall()
    conn.close()

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a 304 must not be parsed")

    import aggregator.crawl as crawl_module
    for name in ("parse_feed", "parse_listing", "discover_feeds", "decode_html"):
        monkeypatch.setattr(crawl_module, name, no_parsing)
    server.reset_hits()
    # every URL is asked again (with its validators) and answers 304
    assert crawl(settings, db) == {"blog": "not-modified", "press": "not-modified"}
    assert {p: n for p, n in server.hits.items() if p != "/robots.txt"} == {
        "/blog/index.html": 1, "/blog/feed.xml": 1, "/press/page-1.html": 1,
        "/press/page-2.html": 1}
    assert stored(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT url, etag, last_modified, follow FROM http_cache"
                        " ORDER BY url").fetchall() == cache_before
    conn.close()


def test_a_version_1_database_is_migrated(tmp_path: Path) -> None:
    import sqlite_utils

    from aggregator.store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "v1.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[1](db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    db.execute("INSERT INTO http_cache (url, etag) VALUES ('http://127.0.0.1/f', '\"a\"')")
    db.conn.commit()
    db.close()
    with Store.open(path) as store:
        cached = store.cached_url("http://127.0.0.1/f")
        version = store.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(SCHEMA_VERSION)
    assert cached is not None and cached.etag == '"a"' and cached.follow is None


@pytest.mark.parametrize("robots, kind", [(True, "robots"), (False, "transport")])
def test_an_article_that_failed_for_a_passing_reason_is_retried_next_check(
        site: tuple[Path, FixtureServer], tmp_path: Path, robots: bool, kind: str) -> None:
    """A host that refuses connections (a closed loopback port) is a passing failure —
    its robots.txt cannot be read, so it is disallowed for now; without robots checks the
    connection itself fails. The feed's new validators are not kept, so the next check
    reads the feed again and retries that article instead of a 304 hiding it until the
    feed changes. A 404 (permanent) does not hold the feed back."""
    import socket

    root, server = site
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connection refused
    feed = root / "blog" / "feed.xml"
    feed.write_text(feed.read_text(encoding="utf-8").replace(
        "</channel>", f"<item><title>Down</title><link>http://127.0.0.1:{port}/down.html</link>"
                      "</item></channel>"), encoding="utf-8")
    settings = parse_config({
        "fetch": {"allow_private": ["127.0.0.1"], "per_host_delay": 0.0, "retries": 0,
                  "timeout": 5.0},
        "sources": [{"name": "blog", "kind": "feed", "url": server.base_url + "/blog/feed.xml",
                     "interval": "1h", "robots": robots}],
    })
    db = tmp_path / "t.db"

    def check() -> tuple[str, list[str]]:
        with Store.open(db) as store:
            summary = asyncio.run(run_crawl(settings, store, settings.sources))
        (report,) = summary.reports
        return report.status, [e.kind for e in report.errors]

    assert check() == ("ok", [kind])
    assert len(stored(db)) == 2
    server.reset_hits()
    assert check() == ("ok", [kind])  # read again (200, not 304) and retried
    assert server.hits["/blog/feed.xml"] == 1
    # the article is fixed: a 404 now (permanent), so the feed's validators are kept ...
    feed.write_text(feed.read_text(encoding="utf-8").replace(
        f"http://127.0.0.1:{port}/down.html", "{{BASE}}/blog/posts/gone.html"), encoding="utf-8")
    assert check() == ("ok", ["http"])
    # ... and the next check costs a 304
    assert check() == ("not-modified", [])
