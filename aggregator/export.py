"""Outputs for downstream readers: Atom 1.0, RSS 2.0, JSON Feed 1.1, JSON Lines, CSV.

Builders are pure: article dicts in (``Store.article`` shape), ``str`` out. Feeds carry one
entry per story by default: ``group_stories`` keeps the earliest article of each story (the
original report) and lists the other coverage as related links; articles without a story
(and duplicates) stand alone. XML is built with lxml (always well-formed; characters XML 1.0
forbids are removed), article HTML goes through ``aggregator.sanitize.sanitize_html`` and
text fields are escaped by the serializer (XML; RSS titles, authors and categories, which
many readers render as HTML, first go through ``inert_text``: tags stripped, ``<``/``>``
escaped once more), or emitted as JSON strings with ``<``, ``>``
and ``&`` written as ``\\u003c``/``\\u003e``/``\\u0026`` (inert even when pasted into HTML).
CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) get a ``'``.

``select_articles`` / ``story_members`` (the one section that reads the store) pick articles
for a feed or an export: filters by source, query (FTS5 via ``aggregator.store.search``),
dates and story.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from aggregator.sanitize import (
    clean_text,
    escape_html,
    inert_text,
    safe_url,
    sanitize_html,
    text_to_html,
)

if TYPE_CHECKING:
    from aggregator.store import Store

__all__ = [
    "FORMATS", "MEDIA_TYPES", "FeedInfo", "FeedItem", "article_json", "build", "build_atom",
    "build_csv", "build_jsonfeed", "build_jsonl", "build_rss", "dumps_json", "group_stories",
    "select_articles", "story_members",
]

FORMATS = ("atom", "rss", "jsonfeed", "jsonl", "csv")
MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "jsonfeed": "application/feed+json; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"
EPOCH = "1970-01-01T00:00:00+00:00"
GENERATOR = "aggregator"

#: The fields of ``aggregator show --format json`` (and of every JSON Lines row).
PUBLIC_FIELDS = (
    "id", "url", "canonical_url", "source", "title", "authors", "published",
    "published_source", "modified", "feed_published", "fetched", "language", "summary",
    "site_name", "image", "section", "tags", "duplicate_of", "story_id", "text", "attributions",
)
CSV_FIELDS = (
    "id", "url", "canonical_url", "source", "title", "authors", "published", "modified",
    "fetched", "language", "summary", "story_id", "duplicate_of", "text",
)


@dataclass(frozen=True)
class FeedInfo:
    """Feed-level metadata. ``self_url`` is the feed's own address, ``home_url`` a page."""

    title: str
    self_url: str
    home_url: str | None = None
    subtitle: str | None = None
    feed_id: str | None = None


@dataclass(frozen=True)
class FeedItem:
    """One feed entry: an article, and for a story, the other articles covering it."""

    article: Mapping[str, Any]
    related: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    grouped: bool = False  # stands for its whole story (entry id is the story's)

    @property
    def story_id(self) -> int | None:
        return self.article.get("story_id")


# -- JSON ---------------------------------------------------------------------------------
def dumps_json(value: Any, *, indent: int | None = None) -> str:
    """JSON with ``<``, ``>``, ``&`` escaped (same value, but inert inside HTML)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def article_json(article: Mapping[str, Any]) -> dict[str, Any]:
    """The public JSON fields of an article (same as ``show --format json``)."""
    return {k: article.get(k) for k in PUBLIC_FIELDS if k in article}


def iter_jsonl(articles: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One JSON line per article, as the articles come (nothing held beyond one line)."""
    for a in articles:
        yield dumps_json(article_json(a)) + "\n"


def build_jsonl(articles: Iterable[Mapping[str, Any]]) -> str:
    return "".join(iter_jsonl(articles))


# -- CSV ----------------------------------------------------------------------------------
def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = "; ".join(str(v) for v in value)
    text = clean_text(value).replace("\r\n", "\n")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def iter_csv(articles: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header, then one CSV record per article, as the articles come."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for a in articles:
        writer.writerow([_csv_cell(a.get(k)) for k in CSV_FIELDS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():  # no article: the header alone
        yield out.getvalue()


def build_csv(articles: Iterable[Mapping[str, Any]]) -> str:
    return "".join(iter_csv(articles))


#: Formats written record by record (``stream``); the feed formats need every item first.
STREAMED = ("jsonl", "csv")


def stream(fmt: str, articles: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """JSON Lines or CSV text in pieces, one article at a time."""
    if fmt == "jsonl":
        return iter_jsonl(articles)
    if fmt == "csv":
        return iter_csv(articles)
    raise ValueError(f"{fmt!r} is not written record by record (those are: jsonl, csv)")


# -- stories ------------------------------------------------------------------------------
def _date_key(article: Mapping[str, Any]) -> str:
    return str(article.get("published") or article.get("fetched") or EPOCH)


def group_stories(
    articles: Sequence[Mapping[str, Any]], *, per_story: bool = True,
    members: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
) -> list[FeedItem]:
    """Feed items in the order of ``articles``; with ``per_story``, one item per story.

    A story is represented by its earliest article among ``articles``; ``members`` (story id
    -> all its articles, e.g. from ``story_members``) gives the related coverage, else the
    other articles of the story in ``articles`` are used. An article whose ``duplicate_of``
    points at another article in the list is folded into that article's item.
    """
    if not per_story:
        return [FeedItem(a) for a in articles]
    members = members or {}
    by_id = {a.get("id"): a for a in articles}
    order: list[Any] = []
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for a in articles:
        if a.get("story_id") is not None:
            key: Any = ("story", a["story_id"])
        elif a.get("duplicate_of") is not None and a["duplicate_of"] in by_id:
            target = by_id[a["duplicate_of"]]
            key = (("story", target["story_id"]) if target.get("story_id") is not None
                   else ("article", target.get("id")))
        else:
            key = ("article", a.get("id"))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(a)
    items = []
    for key in order:
        group = groups[key]
        lead = min(group, key=lambda a: (a.get("duplicate_of") is not None, _date_key(a),
                                         a.get("id") or 0))
        pool = members.get(key[1], group) if key[0] == "story" else group
        related = tuple(a for a in sorted(pool, key=_date_key) if a.get("id") != lead.get("id"))
        items.append(FeedItem(lead, related, grouped=key[0] == "story"))
    return items


# -- shared entry pieces ------------------------------------------------------------------
def _link(article: Mapping[str, Any]) -> str | None:
    return safe_url(article.get("canonical_url") or article.get("url"))


def _content_html(item: FeedItem) -> str:
    a = item.article
    base = a.get("url") or a.get("canonical_url")
    body = sanitize_html(a.get("html"), base) if a.get("html") else ""
    if not body:
        body = text_to_html(a.get("text") or a.get("summary"))
    if item.related:
        links = []
        for r in item.related:
            href = _link(r)
            label = escape_html(f"{r.get('title') or ''} ({r.get('source') or ''})")
            links.append(f'<li><a href="{escape_html(href)}">{label}</a></li>' if href
                         else f"<li>{label}</li>")
        body += "<p>Also covered by:</p><ul>" + "".join(links) + "</ul>"
    return body


def _updated(article: Mapping[str, Any]) -> str:
    return _rfc3339(article.get("modified") or article.get("published")
                    or article.get("fetched"))


def _rfc3339(value: Any) -> str:
    dt = _parse_dt(value)
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z") if dt else "1970-01-01T00:00:00Z"


def _parse_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def _entry_id(item: FeedItem) -> str:
    if item.grouped and item.story_id is not None:
        return f"urn:aggregator:story:{item.story_id}"
    a = item.article
    return _link(a) or f"urn:aggregator:article:{a.get('id')}"


def item_updated(item: FeedItem) -> str:
    """An entry's last change: its article's, or for a story, when coverage last arrived
    (so a reader sees the story entry change when another outlet reports it)."""
    stamps = [_updated(item.article)]
    if item.grouped:
        stamps += [_rfc3339(r.get("fetched") or r.get("published")) for r in item.related
                   if r.get("fetched") or r.get("published")]
    return max(stamps)


def feed_updated(items: Sequence[FeedItem]) -> str:
    """The newest entry time (RFC 3339), or the epoch for an empty feed (stable ETags)."""
    stamps = [item_updated(i) for i in items]
    return max(stamps) if stamps else "1970-01-01T00:00:00Z"


def _text(value: Any) -> str:
    return clean_text(value).strip()


# -- Atom ---------------------------------------------------------------------------------
def build_atom(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    def sub(parent: etree._Element, tag: str, text: str | None = None,
            **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: v for k, v in attrs.items()})
        if text is not None:
            el.text = text
        return el

    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    sub(feed, "id", info.feed_id or info.self_url)
    sub(feed, "title", _text(info.title), type="text")
    if info.subtitle:
        sub(feed, "subtitle", _text(info.subtitle), type="text")
    sub(feed, "updated", feed_updated(items))
    sub(feed, "link", rel="self", href=info.self_url, type="application/atom+xml")
    if info.home_url:
        sub(feed, "link", rel="alternate", href=info.home_url)
    author = sub(feed, "author")
    sub(author, "name", GENERATOR)
    sub(feed, "generator", GENERATOR)
    for item in items:
        a = item.article
        entry = sub(feed, "entry")
        sub(entry, "id", _entry_id(item))
        sub(entry, "title", _text(a.get("title")) or "(untitled)", type="text")
        sub(entry, "updated", item_updated(item))
        if a.get("published"):
            sub(entry, "published", _rfc3339(a.get("published")))
        link = _link(a)
        if link:
            sub(entry, "link", rel="alternate", type="text/html", href=link)
        for r in item.related:
            href = _link(r)
            if href:
                sub(entry, "link", rel="related", type="text/html", href=href,
                    title=_text(f"{r.get('title') or ''} ({r.get('source') or ''})"))
        for name in a.get("authors") or ():
            if _text(name):
                sub(sub(entry, "author"), "name", _text(name))
        if a.get("source"):
            sub(entry, "category", term=_text(a["source"]))
        if a.get("summary"):
            sub(entry, "summary", _text(a["summary"]), type="text")
        sub(entry, "content", _content_html(item), type="html")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True
                          ).decode("utf-8")


# -- RSS 2.0 ------------------------------------------------------------------------------
def _rfc822(value: Any) -> str | None:
    dt = _parse_dt(value)
    return format_datetime(dt, usegmt=True) if dt else None


def build_rss(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    rss = etree.Element("rss", version="2.0", nsmap={"atom": ATOM_NS, "dc": DC_NS})
    channel = etree.SubElement(rss, "channel")

    def sub(parent: etree._Element, tag: str, text: str | None = None,
            **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items()})
        if text is not None:
            el.text = text
        return el

    sub(channel, "title", inert_text(info.title))
    sub(channel, "link", info.home_url or info.self_url)
    sub(channel, "description", inert_text(info.subtitle or info.title))
    sub(channel, f"{{{ATOM_NS}}}link", rel="self", href=info.self_url,
        type="application/rss+xml")
    sub(channel, "generator", GENERATOR)
    updated = feed_updated(items)
    sub(channel, "lastBuildDate", _rfc822(updated) or "")
    for item in items:
        a = item.article
        el = sub(channel, "item")
        sub(el, "title", inert_text(a.get("title")) or "(untitled)")
        link = _link(a)
        if link:
            sub(el, "link", link)
        guid = _entry_id(item)
        sub(el, "guid", guid, isPermaLink="true" if guid == link else "false")
        date = _rfc822(a.get("published") or a.get("fetched"))
        if date:
            sub(el, "pubDate", date)
        for name in a.get("authors") or ():
            if inert_text(name):
                sub(el, f"{{{DC_NS}}}creator", inert_text(name))
        if a.get("source"):
            sub(el, "category", inert_text(a["source"]))
        sub(el, "description", _content_html(item))
    return etree.tostring(rss, xml_declaration=True, encoding="utf-8", pretty_print=True
                          ).decode("utf-8")


# -- JSON Feed 1.1 ------------------------------------------------------------------------
def build_jsonfeed(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    feed: dict[str, Any] = {
        "version": JSONFEED_VERSION, "title": _text(info.title), "feed_url": info.self_url,
    }
    if info.home_url:
        feed["home_page_url"] = info.home_url
    if info.subtitle:
        feed["description"] = _text(info.subtitle)
    out_items = []
    for item in items:
        a = item.article
        entry: dict[str, Any] = {
            "id": _entry_id(item),
            "url": _link(a),
            "title": _text(a.get("title")),
            "content_html": _content_html(item),
            "date_published": _rfc3339(a.get("published") or a.get("fetched")),
            "date_modified": item_updated(item),
        }
        if a.get("summary"):
            entry["summary"] = _text(a["summary"])
        authors = [{"name": _text(n)} for n in a.get("authors") or () if _text(n)]
        if authors:
            entry["authors"] = authors
        if a.get("language"):
            entry["language"] = _text(a["language"])
        if a.get("source"):
            entry["tags"] = [_text(a["source"])]
        entry["_aggregator"] = {
            "article_id": a.get("id"), "source": a.get("source"), "story_id": a.get("story_id"),
            "related": [{"id": r.get("id"), "url": _link(r), "title": _text(r.get("title")),
                         "source": r.get("source")} for r in item.related],
            "attributions": [
                {k: x.get(k) for k in ("kind", "name", "url", "role", "text")}
                for x in a.get("attributions") or ()
            ],
        }
        out_items.append({k: v for k, v in entry.items() if v is not None})
    feed["items"] = out_items
    return dumps_json(feed, indent=2) + "\n"


def build(fmt: str, info: FeedInfo, articles: Sequence[Mapping[str, Any]], *,
          per_story: bool = True,
          members: Mapping[int, Sequence[Mapping[str, Any]]] | None = None) -> str:
    """Any format from a list of articles (feeds grouped by story unless ``per_story=False``)."""
    if fmt == "jsonl":
        return build_jsonl(articles)
    if fmt == "csv":
        return build_csv(articles)
    items = group_stories(articles, per_story=per_story, members=members)
    if fmt == "atom":
        return build_atom(info, items)
    if fmt == "rss":
        return build_rss(info, items)
    if fmt == "jsonfeed":
        return build_jsonfeed(info, items)
    raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


# -- selection (reads the store) ----------------------------------------------------------
def select_articles(
    store: Store, *, source: Sequence[str] = (), query: str | None = None,
    since: datetime | None = None, until: datetime | None = None, story: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Full article dicts, newest first (best match first with ``query``).

    Raises ``QueryError`` for a query that cannot run.
    """
    return list(iter_articles(store, select_article_ids(
        store, source=source, query=query, since=since, until=until, story=story,
        limit=limit)))


def iter_articles(store: Store, ids: Iterable[int]) -> Iterator[dict[str, Any]]:
    """Full article dicts for ``ids``, read one at a time (a vanished id is skipped)."""
    for i in ids:
        art = store.article(int(i))
        if art is not None:
            yield art


def select_article_ids(
    store: Store, *, source: Sequence[str] = (), query: str | None = None,
    since: datetime | None = None, until: datetime | None = None, story: int | None = None,
    limit: int = 50,
) -> list[int]:
    """The ids ``select_articles`` reads, in its order."""
    from aggregator.store import iso

    if query:
        from aggregator.store.search import SearchFilters, search

        hits = search(store, query, SearchFilters(sources=tuple(source), since=since,
                                                  until=until, story_id=story, limit=limit))
        ids = [h["id"] for h in hits]
    else:
        where, params = [], []
        if source:
            where.append(f"source IN ({', '.join('?' * len(source))})")
            params.extend(source)
        if since:
            where.append("coalesce(published, fetched) >= ?")
            params.append(iso(since))
        if until:
            where.append("coalesce(published, fetched) < ?")
            params.append(iso(until))
        if story is not None:
            where.append("story_id = ?")
            params.append(story)
        sql = ("SELECT id FROM articles" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY coalesce(published, fetched) DESC, id DESC LIMIT ?")
        ids = [r["id"] for r in store._all(sql, (*params, limit))]
    return [int(i) for i in ids]


def story_members(store: Store, story_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Story id -> its articles (id, url, canonical_url, source, title, published, fetched)."""
    out: dict[int, list[dict[str, Any]]] = {}
    ids = sorted({int(s) for s in story_ids if s is not None})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = store._all(
            "SELECT id, url, canonical_url, source, title, published, fetched, story_id"
            f" FROM articles WHERE story_id IN ({', '.join('?' * len(chunk))})"
            " ORDER BY coalesce(published, fetched), id", chunk)
        for r in rows:
            out.setdefault(r["story_id"], []).append(r)
    return out


# -- Datasette ------------------------------------------------------------------------------
def datasette_metadata(database: str = "aggregator") -> dict[str, Any]:
    """Datasette metadata for an aggregator database named ``database`` (the file's stem).

    ``articles_fts`` is a standalone FTS5 table whose rowid is the article id and whose
    columns hold folded text (``aggregator.search.normalize.index_text``), so Datasette is
    told which table indexes ``articles`` (``fts_table``) and which column matches its rowid
    (``fts_pk``): the search box and ``?_search=`` then work on the articles table. A
    canned query ``search`` ranks with BM25 (title weighted) like ``aggregator search``.

        python -c "import json, aggregator.export as e; print(json.dumps(
            e.datasette_metadata('aggregator')))" > datasette.json
        datasette aggregator.db -m datasette.json
    """
    return {
        "title": "aggregator",
        "databases": {
            database: {
                "tables": {
                    "articles": {
                        "fts_table": "articles_fts", "fts_pk": "id",
                        "sort_desc": "published",
                        "label_column": "title",
                    },
                    "articles_fts": {"hidden": True},
                },
                "queries": {
                    "search": {
                        "title": "Search articles (BM25, title weighted)",
                        "sql": (
                            "select a.id, a.title, a.source, a.published, a.canonical_url,"
                            " snippet(articles_fts, 1, '[', ']', '…', 24) as snippet"
                            " from articles_fts join articles a on a.id = articles_fts.rowid"
                            " where articles_fts match :q"
                            " order by bm25(articles_fts, 10.0, 1.0) limit 50"
                        ),
                    },
                },
            },
        },
    }
