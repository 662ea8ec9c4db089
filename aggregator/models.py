"""Plain values shared by every stage of the pipeline.

All are frozen dataclasses: pure stages (feeds, extract, dedup) return them, the store
writes them, the CLI prints them. Times are timezone-aware ``datetime`` objects (UTC when
the source gives no zone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: Attribution kinds, in the order ``show`` prints them.
ATTRIBUTION_KINDS = ("author", "source", "press_release", "quote", "embed", "credit")


@dataclass(frozen=True)
class SiteRule:
    """Extraction rules for pages whose URL matches ``match`` (host, or host/path-prefix)."""

    match: str
    body: tuple[str, ...] = ()  # CSS selectors for the article body
    drop: tuple[str, ...] = ()  # CSS selectors removed before extraction
    author: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    title: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """One configured source: a feed, or a listing page whose links are found by a selector."""

    name: str
    title: str
    kind: str  # "feed" or "listing"
    url: str
    interval: int  # seconds between checks
    link_selector: str | None = None  # listing: CSS selector for article links
    next_selector: str | None = None  # listing: CSS selector for the "next page" link
    max_pages: int = 3  # listing: pages followed per crawl
    max_articles: int = 50  # newest entries fetched per crawl
    robots: bool = True  # check robots.txt before fetching
    enabled: bool = True
    min_interval: int | None = None  # adaptive schedule bounds (seconds); None: derived
    max_interval: int | None = None  # from interval by aggregator.schedule.default_limits


@dataclass(frozen=True)
class Entry:
    """One item found in a feed or on a listing page: a link to an article, with hints."""

    url: str
    title: str | None = None
    published: datetime | None = None
    guid: str | None = None
    summary: str | None = None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """A fetched HTTP response, body fully read and within limits."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content: bytes
    content_type: str  # media type only, lower case, e.g. "text/html"
    charset: str | None = None  # from the Content-Type header, if any
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    fetched: datetime | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Attribution:
    """Who wrote, whom it cites, who is quoted, what is embedded, who took the photos.

    kind: one of ATTRIBUTION_KINDS. name: the person, outlet or account. url: the linked
    page, when there is one. role: the relation ("reports", "via", "according to", ...),
    the speaker's title, the embed's platform or the credit's kind. text: the quotation or
    the sentence it came from. position: order of appearance in the article. details:
    extra named values (embed: display_name, date; credit: image; source: cited_by).
    """

    kind: str
    name: str
    url: str | None = None
    role: str | None = None
    text: str | None = None
    position: int = 0
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Image:
    url: str
    caption: str | None = None
    credit: str | None = None


@dataclass(frozen=True)
class Article:
    """What extraction makes of one article page."""

    url: str
    title: str
    text: str
    html: str = ""  # sanitized body HTML
    canonical_url: str | None = None
    amp_url: str | None = None  # the AMP form the page declares (<link rel="amphtml">)
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    summary: str | None = None
    site_name: str | None = None
    image: Image | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    attributions: tuple[Attribution, ...] = field(default_factory=tuple)
