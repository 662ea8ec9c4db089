"""Feeds and listing pages -> entries (pure; strings and bytes in)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from aggregator.errors import FeedError, ListingError
from aggregator.feeds import discover_feeds, parse_feed, parse_listing

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Blog</title><link>https://blog.example/</link><ttl>45</ttl>
<item><title>Older</title><link>https://blog.example/older</link>
  <pubDate>Mon, 02 Mar 2026 09:00:00 +0100</pubDate><dc:creator>Ann Lee</dc:creator></item>
<item><title>Newer</title><link>/newer?utm_source=rss</link><guid>g-2</guid>
  <pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate></item>
<item><title>No link</title></item>
<item><title>Dup</title><link>https://blog.example/older</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Mag</title>
<entry><title>Über Köln</title><link rel="alternate" href="https://mag.example/a"/>
<id>urn:a</id><updated>2026-04-01T08:00:00+02:00</updated>
<author><name>Zoë Côté</name></author><author><name>Jürgen Müller</name></author></entry>
</feed>""".encode()


def test_rss_entries_newest_first_resolved_and_deduplicated() -> None:
    feed = parse_feed(RSS, "https://blog.example/feed.xml")
    assert [e.title for e in feed.entries] == ["Newer", "Older"]
    newer, older = feed.entries
    assert newer.url == "https://blog.example/newer?utm_source=rss"
    assert newer.guid and newer.guid.endswith("g-2")  # RSS guids are permalinks by default
    assert newer.published == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert older.published == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert older.authors == ("Ann Lee",)
    assert feed.ttl_minutes == 45


def test_atom_with_several_authors_and_non_ascii() -> None:
    (entry,) = parse_feed(ATOM, "https://mag.example/atom.xml").entries
    assert entry.title == "Über Köln"
    assert entry.authors == ("Zoë Côté", "Jürgen Müller")
    assert entry.published == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def test_legacy_charset_feed() -> None:
    data = ('<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel>'
            "<title>F</title><item><title>Fotos von Jürgen – schön</title>"
            "<link>https://f.example/1</link></item></channel></rss>").encode("cp1252")
    (entry,) = parse_feed(data, "https://f.example/rss").entries
    assert entry.title == "Fotos von Jürgen – schön"


@pytest.mark.parametrize("content", [b"", b"   ", b"<html><body>hello</body></html>",
                                     b"<rss><channel><item>", b"\x00\xff\xfe garbage"])
def test_not_a_feed(content: bytes) -> None:
    with pytest.raises(FeedError) as err:
        parse_feed(content, "https://x.example/feed")
    assert err.value.url == "https://x.example/feed"
    assert "\n" not in str(err.value)


def test_billion_laughs_is_harmless() -> None:
    lol = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
        for i in range(9)) + b']><rss version="2.0"><channel><title>&j;</title>' \
        b"<item><title>x</title><link>https://x.example/1</link></item></channel></rss>"
    start = time.perf_counter()
    try:
        feed = parse_feed(lol, "https://x.example/feed")
    except FeedError:
        feed = None
    assert time.perf_counter() - start < 2
    if feed is not None:
        assert len(feed.title or "") < 10_000


LISTING = """<html><head><base href="https://maker.example/press/"></head><body>
<nav><a href="/about">About</a></nav>
<article class="press-item"><h2><a href="first-release">First</a></h2></article>
<article class="press-item"><h2><a href="https://maker.example/press/second">Second</a></h2>
</article>
<article class="press-item"><h2><a href="first-release#top">First again</a></h2></article>
<article class="press-item"><h2><a href="mailto:press@maker.example">Mail</a></h2></article>
<a class="next" href="?page=2">Next</a>
</body></html>"""


def test_listing_links_by_selector() -> None:
    result = parse_listing(LISTING, "https://maker.example/press/",
                           link_selector="article.press-item h2 a", next_selector="a.next")
    assert [e.url for e in result.entries] == [
        "https://maker.example/press/first-release", "https://maker.example/press/second"]
    assert result.entries[0].title == "First"
    assert result.next_url == "https://maker.example/press/?page=2"


def test_listing_without_matches_is_an_error() -> None:
    with pytest.raises(ListingError, match="no links match"):
        parse_listing("<html><a href='/x'>x</a></html>", "https://m.example/",
                      link_selector="article h2 a")


def test_feed_discovery() -> None:
    html = ('<html><head><link rel="alternate" type="application/rss+xml" href="/feed/">'
            '<link rel="alternate" type="text/html" href="/other"></head></html>')
    assert discover_feeds(html, "https://b.example/post") == ["https://b.example/feed/"]
