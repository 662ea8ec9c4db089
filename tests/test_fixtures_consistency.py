"""The fixture site and its expected files agree with each other.

Catches typos in the ground truth: every expected paragraph, quotation and cited sentence must
really be on the page, every article page has an expected file (and the reverse), and every
link in a feed or listing leads to a page that exists.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest

from aggregator.models import ATTRIBUTION_KINDS

ROOT = Path(__file__).resolve().parent.parent / "fixtures"
SITE = ROOT / "site"
EXPECTED = ROOT / "expected"
BASE = "http://fixture.test:8000"  # any base works; {{BASE}} is substituted in both sides

KEYS = {"path", "source", "title", "authors", "published", "canonical_url", "language", "text",
        "must_not_contain", "attributions"}
SOURCES = {"shutter-notes", "lens-and-light", "kestrel-press", "photo-wire", "fotoblog"}
ATTR_KEYS = {"kind", "name", "url", "role", "text", "details"}
SOURCE_ROLES = {"reports", "according to", "via", "told", "statement", "source", "credit", "h/t",
                "first reported by"}
EMBED_ROLES = {"x", "instagram", "youtube", "mastodon"}
FEEDS = ["/camerablog/feed.xml", "/magazine/atom.xml", "/wire/rss.xml", "/fotoblog/rss.xml"]
LISTINGS = ["/pressroom/press/index.html", "/pressroom/press/page-2.html"]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.I)
_WS = re.compile(r"\s+")


def is_article(url_path: str) -> bool:
    """Article pages: every .html page except index/listing pages, /special/ and /private/,
    and AMP variants (``/amp/`` in the path), whose expected result is their canonical page's."""
    name = url_path.rsplit("/", 1)[-1]
    return not (
        url_path.startswith(("/special/", "/private/"))
        or "/amp/" in url_path
        or name == "index.html"
        or re.fullmatch(r"page-\d+\.html", name)
    )


def site_pages() -> list[str]:
    return sorted("/" + p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(SITE).parts))


ARTICLES = [p for p in site_pages() if is_article(p)]


def expected_files() -> list[Path]:
    return sorted(EXPECTED.rglob("*.json"))


def load(file: Path) -> dict:
    return json.loads(file.read_text(encoding="utf-8").replace("{{BASE}}", BASE))


def raw_page(url_path: str) -> str:
    """The page as served (with BASE), decoded by the charset the file itself declares.

    (Deliberately not the HTTP header: one fotoblog page is served with a wrong header.)"""
    data = (SITE / url_path.lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
    meta = _META_CHARSET.search(data[:4096])
    return data.decode(meta.group(1).decode() if meta else "utf-8")


def squash(text: str) -> str:
    return _WS.sub(" ", html.unescape(text)).strip()


def visible_text(url_path: str) -> str:
    doc = lxml.html.fromstring(raw_page(url_path))
    for el in doc.xpath("//script|//style|//head"):
        el.drop_tree()
    return squash(doc.text_content())


def expected_path(url_path: str) -> Path:
    return EXPECTED / (url_path.lstrip("/").removesuffix(".html") + ".json")


def test_enough_articles() -> None:
    assert len(ARTICLES) >= 24
    assert {p.split("/")[1] for p in ARTICLES} == {
        "camerablog", "magazine", "pressroom", "wire", "fotoblog"}


@pytest.mark.parametrize("url_path", ARTICLES)
def test_every_article_has_expected_file(url_path: str) -> None:
    assert expected_path(url_path).is_file(), f"no expected file for {url_path}"


@pytest.mark.parametrize("file", expected_files(), ids=lambda f: f.stem)
def test_expected_file_valid(file: Path) -> None:
    data = load(file)
    assert set(data) == KEYS
    path = data["path"]
    assert expected_path(path) == file, "file name must follow the page path"
    assert (SITE / path.lstrip("/")).is_file(), f"page {path} does not exist"
    assert is_article(path)
    assert data["source"] in SOURCES
    assert data["title"] and data["title"] == data["title"].strip()
    assert "|" not in data["title"] and "Lens & Light" not in data["title"]
    assert all(isinstance(a, str) and a.strip() == a and a for a in data["authors"])
    published = datetime.fromisoformat(data["published"])
    assert published.tzinfo is not None, "published needs an offset"
    assert data["canonical_url"] == BASE + path
    assert data["language"] in {"en", "de", "fr"}
    paras = data["text"].split("\n\n")
    assert all(p and p == p.strip() and "\n" not in p for p in paras)
    for clutter in data["must_not_contain"]:
        assert clutter not in data["text"], f"clutter {clutter!r} is in the expected text"
    rows = data["attributions"]
    assert [r["name"] for r in rows if r["kind"] == "author"] == data["authors"]
    for r in rows:
        assert set(r) == ATTR_KEYS, r
        assert r["kind"] in ATTRIBUTION_KINDS
        assert r["name"] and isinstance(r["details"], dict)
        if r["kind"] == "source":
            assert r["role"] in SOURCE_ROLES, r
            assert r["text"]
            if r["role"] == "via":
                assert r["details"].get("cited_by"), r
        elif r["kind"] == "embed":
            assert r["role"] in EMBED_ROLES and r["url"], r
            if r["role"] in ("x", "instagram", "mastodon"):
                assert r["name"].startswith("@"), r
        elif r["kind"] == "credit":
            assert r["role"] in ("photo", "image") and r["details"].get("image"), r
        elif r["kind"] == "quote":
            assert r["text"] and r["text"][0] not in "\"'“”‘’«»„", r
        elif r["kind"] == "press_release":
            assert r["url"] and r["text"], r


@pytest.mark.parametrize("file", expected_files(), ids=lambda f: f.stem)
def test_expected_text_is_on_the_page(file: Path) -> None:
    data = load(file)
    visible = visible_text(data["path"])
    for para in data["text"].split("\n\n"):
        pieces = para.split(" | ")  # table rows: cells joined by " | "
        for piece in pieces:
            assert piece in visible, f"{data['path']}: paragraph not on the page: {piece[:80]!r}"
    for clutter in data["must_not_contain"]:
        assert clutter in visible, f"{data['path']}: clutter {clutter!r} is not on the page at all"


@pytest.mark.parametrize("file", expected_files(), ids=lambda f: f.stem)
def test_attributions_are_on_the_page(file: Path) -> None:
    data = load(file)
    visible = visible_text(data["path"])
    raw = raw_page(data["path"])
    everything = squash(raw)  # includes attribute values (iframe titles, image URLs)
    for r in data["attributions"]:
        where = f"{data['path']}: {r['kind']} {r['name']!r}"
        if r["text"]:
            found = squash(r["text"]) in visible or (
                r["kind"] in ("embed", "credit") and squash(r["text"]) in everything)
            assert found, f"{where}: text not on the page: {r['text']!r}"
        if r["url"]:
            target = r["url"]
            ok = html.escape(target) in raw or target in raw or (
                target.startswith(BASE) and f'"{urlsplit(target).path}"' in raw)
            assert ok, f"{where}: url {target} is not linked on the page"
            if target.startswith(BASE) and r["kind"] != "author":
                assert (SITE / urlsplit(target).path.lstrip("/")).is_file(), f"{where}: {target}"
        if r["kind"] == "credit":
            assert r["details"]["image"] in raw
            assert (SITE / urlsplit(r["details"]["image"]).path.lstrip("/")).is_file()
        if r["kind"] == "author":
            assert r["name"] in visible, f"{where}: author not named on the page"


_OPEN = "\"'“‘«„"
_CLOSE = "\"'”’»“"


@pytest.mark.parametrize("file", expected_files(), ids=lambda f: f.stem)
def test_quotes_are_whole_quotations(file: Path) -> None:
    """A quote's text is exactly what stands between one pair of quote marks (less the comma
    that precedes the attribution)."""
    data = load(file)
    visible = visible_text(data["path"])
    for r in data["attributions"]:
        if r["kind"] != "quote":
            continue
        pattern = (f"[{re.escape(_OPEN)}]\\s?" + re.escape(r["text"])
                   + f",?\\s?[{re.escape(_CLOSE)}]")
        assert re.search(pattern, visible), f"{data['path']}: not a whole quotation: {r['text']!r}"


def _local(url: str) -> Path:
    assert url.startswith(BASE), url
    return SITE / urlsplit(url).path.lstrip("/")


@pytest.mark.parametrize("feed", FEEDS)
def test_feed_links_exist(feed: str) -> None:
    data = (SITE / feed.lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) >= 3
    for entry in parsed.entries:
        target = _local(entry.link)
        assert target.is_file(), entry.link
        assert expected_path(urlsplit(entry.link).path).is_file()
        assert entry.get("published_parsed"), entry.link
    if feed == "/wire/rss.xml":
        assert all("utm_source=rss&utm_medium=feed" in e.link for e in parsed.entries)


def test_listing_links_exist() -> None:
    seen = []
    for listing in LISTINGS:
        url = BASE + listing
        doc = lxml.html.fromstring(raw_page(listing))
        links = [urljoin(url, a.get("href")) for a in doc.cssselect("article.press-item h2 a")]
        assert links, listing
        for link in links:
            assert _local(link).is_file(), link
            assert expected_path(urlsplit(link).path).is_file(), link
        seen.extend(links)
        for nxt in doc.cssselect("a.next"):
            assert _local(urljoin(url, nxt.get("href"))).is_file()
    assert len(seen) == len(set(seen)) == 5
    assert sorted(urlsplit(u).path for u in seen) == sorted(
        p for p in ARTICLES if p.startswith("/pressroom/"))


def test_every_article_is_reachable_from_a_feed_or_listing() -> None:
    reachable = set()
    for feed in FEEDS:
        data = (SITE / feed.lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
        reachable |= {urlsplit(e.link).path for e in feedparser.parse(data).entries}
    for listing in LISTINGS:
        doc = lxml.html.fromstring(raw_page(listing))
        reachable |= {urlsplit(urljoin(BASE + listing, a.get("href"))).path
                      for a in doc.cssselect("article.press-item h2 a")}
    assert reachable == set(ARTICLES)


def test_amp_variants_point_at_their_canonical_page() -> None:
    amp_pages = [p for p in site_pages() if "/amp/" in p]
    assert amp_pages
    for amp in amp_pages:
        canonical = amp.replace("/amp/", "/", 1)
        raw = raw_page(amp)
        assert f'<link rel="canonical" href="{BASE}{canonical}">' in raw
        assert f'<link rel="amphtml" href="{BASE}{amp}">' in raw_page(canonical)
        visible = visible_text(amp)
        for para in load(expected_path(canonical))["text"].split("\n\n"):
            assert para in visible, para


def test_header_overrides_name_existing_files() -> None:
    overrides = json.loads((SITE / "_headers.json").read_text(encoding="utf-8"))
    for path in overrides:
        assert (SITE / path.lstrip("/")).is_file(), path


def test_legacy_pages_are_not_utf8() -> None:
    legacy = [p for p in ARTICLES if p.startswith("/fotoblog/")]
    assert len(legacy) >= 3
    for path in legacy:
        data = (SITE / path.lstrip("/")).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    assert (SITE / "fotoblog/rss.xml").read_bytes().startswith(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>')
