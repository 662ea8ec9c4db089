"""Feeds and listing pages -> entries. Pure: bytes/str in, dataclasses out.

Feeds are parsed by feedparser from the response *bytes* (never a string, which feedparser
could take for a path or URL), after DOCTYPE internal subsets are removed. Listing pages
(sites with no feed) are parsed with Beautiful Soup and a CSS selector from the config.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from bs4 import BeautifulSoup, Tag

from aggregator.errors import FeedError, ListingError
from aggregator.fetch.charset import prepare_feed_bytes
from aggregator.models import Entry

FEED_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/feed+json",
    "application/json", "application/xml", "text/xml", "application/rdf+xml",
)


@dataclass(frozen=True)
class FeedResult:
    title: str | None
    link: str | None
    entries: tuple[Entry, ...]
    ttl_minutes: int | None = None  # RSS <ttl>, a hint for the schedule


@dataclass(frozen=True)
class ListingResult:
    entries: tuple[Entry, ...]
    next_url: str | None


def _struct_to_dt(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _http_url(href: str | None, base: str) -> str | None:
    if not href:
        return None
    url = urljoin(base, href.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url.split("#", 1)[0]


def parse_feed(content: bytes, url: str, *, content_type: str | None = None) -> FeedResult:
    """Entries of an RSS/Atom/RDF feed, newest first. Raises FeedError if it is not a feed."""
    if not content.strip():
        raise FeedError("empty response, not a feed", url=url)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(prepare_feed_bytes(content), response_headers=headers,
                              sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not parsed.entries and (parsed.bozo or not version):
        reason = parsed.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise FeedError(f"not a readable feed{detail}".splitlines()[0], url=url)
    entries: list[Entry] = []
    seen: set[str] = set()
    for item in parsed.entries:
        link = _http_url(item.get("link"), url)
        if link is None:
            for alt in item.get("links", []):
                if alt.get("rel", "alternate") == "alternate":
                    link = _http_url(alt.get("href"), url)
                    if link:
                        break
        if link is None or link in seen:
            continue
        seen.add(link)
        authors = tuple(
            a["name"].strip() for a in item.get("authors", []) if a.get("name", "").strip()
        )
        if not authors and item.get("author"):
            authors = (item["author"].strip(),)
        summary = item.get("summary")
        entries.append(Entry(
            url=link,
            title=(item.get("title") or "").strip() or None,
            published=_struct_to_dt(item.get("published_parsed") or item.get("updated_parsed")),
            guid=item.get("id") or None,
            summary=summary.strip() if isinstance(summary, str) and summary.strip() else None,
            authors=authors,
        ))
    if not entries and parsed.bozo:
        reason = parsed.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise FeedError(f"broken feed with no usable entries{detail}".splitlines()[0], url=url)
    entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    ttl = parsed.feed.get("ttl")
    try:
        ttl_minutes = int(ttl) if ttl else None
    except (TypeError, ValueError):
        ttl_minutes = None
    return FeedResult(
        title=parsed.feed.get("title"), link=parsed.feed.get("link"),
        entries=tuple(entries), ttl_minutes=ttl_minutes,
    )


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        href = base.get("href")
        if isinstance(href, str):
            return urljoin(url, href)
    return url


def parse_listing(html: str, url: str, *, link_selector: str,
                  next_selector: str | None = None) -> ListingResult:
    """Article links of a listing page (press room, news index) found by a CSS selector."""
    soup = BeautifulSoup(html, "lxml")
    base = _base_url(soup, url)
    entries: list[Entry] = []
    seen: set[str] = {url}
    for node in soup.select(link_selector):
        anchor = node if node.name == "a" else node.find("a", href=True)
        if not isinstance(anchor, Tag):
            continue
        href = anchor.get("href")
        link = _http_url(href if isinstance(href, str) else None, base)
        if link is None or link in seen:
            continue
        seen.add(link)
        title = " ".join(anchor.get_text(" ").split()) or None
        entries.append(Entry(url=link, title=title))
    next_url = None
    if next_selector:
        nxt = soup.select_one(next_selector)
        anchor = nxt if nxt is not None and nxt.name == "a" else (nxt.find("a") if nxt else None)
        if isinstance(anchor, Tag):
            href = anchor.get("href")
            next_url = _http_url(href if isinstance(href, str) else None, base)
            if next_url == url:
                next_url = None
    if not entries and next_url is None:
        raise ListingError(f"no links match the selector {link_selector!r}", url=url)
    return ListingResult(entries=tuple(entries), next_url=next_url)


def discover_feeds(html: str, url: str) -> list[str]:
    """Feed URLs an HTML page announces with <link rel="alternate" type="...rss/atom...">."""
    soup = BeautifulSoup(html, "lxml")
    base = _base_url(soup, url)
    found: list[str] = []
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rels = [r.lower() for r in (rel if isinstance(rel, list) else [rel])]
        kind = str(link.get("type") or "").lower()
        if "alternate" in rels and kind in FEED_TYPES:
            href = _http_url(str(link["href"]), base)
            if href and href not in found:
                found.append(href)
    return found
