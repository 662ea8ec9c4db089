"""The SQLite store: one file, WAL mode, written in short immediate transactions.

Each article is written in one transaction together with its URL aliases, its attributions
and its full-text row, so a crash leaves it either whole or absent.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from aggregator.dedup import DEFAULT_SETTINGS as DEFAULT_DEDUP
from aggregator.dedup import DedupSettings, features_of
from aggregator.errors import StoreError
from aggregator.models import Article, Entry, Source
from aggregator.search.normalize import NAME_FOLD_SQL, fold_name, index_text
from aggregator.store.dedup import Deduplicator
from aggregator.store.schema import migrate
from aggregator.store.timefmt import iso

BUSY_TIMEOUT_MS = 30_000

log = logging.getLogger(__name__)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. Unlike other statements, this pragma does not wait on the busy handler
    while another connection is creating the same file, so it is retried here up to the busy
    timeout (several processes may open a new database at the same moment)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.002
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


@dataclass(frozen=True)
class CachedURL:
    """What the store keeps about one fetched feed or listing URL, for conditional GET."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    #: Where the URL's content led: the feed an HTML page announces, a listing's next page.
    follow: str | None = None
    status: int | None = None
    #: The feed's own refresh hint in seconds (RSS <ttl>, sy:updatePeriod), if it had one.
    ttl: float | None = None


#: Page cache per connection (KiB; allocated as used) and WAL pages between checkpoints:
#: an article touches a few dozen pages of large indexes (LSH bands, story keys, FTS), so a
#: checkpoint (which syncs the file) every ~400 articles rather than every ~40. The cache
#: holds the indexes' upper levels; the leaves an article touches are spread over the whole
#: file, so a larger cache mostly holds pages that are not read again (at a million stored,
#: 8 MiB stores an article in about 15% less CPU than 64 MiB, measured side by side, and
#: search latency is the same; the OS page cache still holds the file).
CACHE_KIB = 8_192
WAL_AUTOCHECKPOINT = 10_000


def configure_connection(conn: sqlite3.Connection) -> None:
    """The settings every store connection runs with (bench/dedup.py times with them too)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.create_function(NAME_FOLD_SQL, 1, fold_name, deterministic=True)
    _enable_wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")


def published_date(article: Article, entry: Entry | None) -> tuple[datetime | None, str | None]:
    """The date an article is filed under and where it comes from: the page's own date
    ("page"), else the feed entry's ("feed"), else none."""
    if article.published is not None:
        return article.published, "page"
    if entry is not None and entry.published is not None:
        return entry.published, "feed"
    return None, None


@dataclass(frozen=True)
class SaveResult:
    article_id: int
    created: bool  # False: an alias of a stored article (same URL, or an exact copy)
    duplicate_of: int | None = None
    story_id: int | None = None


class Store:
    """Access to one aggregator database file."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self.db = sqlite_utils.Database(conn)
        # One Deduplicator per settings: each remembers the candidate stories it read.
        self._dedup: dict[DedupSettings, Deduplicator] = {}

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> Store:
        p = Path(path)
        if not create and not p.exists():
            raise StoreError(f"{p}: no such database (run `aggregator crawl` first)")
        try:
            if p.parent and not p.parent.exists():
                raise StoreError(f"{p}: folder {p.parent} does not exist")
            conn = sqlite3.connect(str(p), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                   check_same_thread=False)
            configure_connection(conn)
            store = cls(conn, str(p))
            migrate(store.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{p}: cannot open database: {exc}") from None
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate write transaction: takes the write lock up front (waiting up to the
        busy timeout), so two writers queue instead of failing with 'database is locked'."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot start a write: {exc}") from None
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            for dedup in self._dedup.values():
                dedup.forget()  # it may remember rows that were just rolled back
            raise
        else:
            self.conn.execute("COMMIT")

    # -- sources -------------------------------------------------------------------------
    def sync_sources(self, sources: Iterable[Source]) -> None:
        with self.transaction():
            for s in sources:
                self.conn.execute(
                    "INSERT INTO sources (name, title, kind, url, interval, error_streak, articles)"
                    " VALUES (?, ?, ?, ?, ?, 0, 0) ON CONFLICT(name) DO UPDATE SET"
                    " title = excluded.title, kind = excluded.kind, url = excluded.url,"
                    " interval = excluded.interval",
                    (s.name, s.title, s.kind, s.url, s.interval),
                )

    def source_state(self, name: str) -> dict[str, Any]:
        row = self._one("SELECT * FROM sources WHERE name = ?", (name,))
        return row or {}

    def sources(self) -> list[dict[str, Any]]:
        return self._all("SELECT * FROM sources ORDER BY name")

    def record_source_check(
        self, name: str, *, now: datetime, status: int | None, ok: bool,
        etag: str | None = None, last_modified: str | None = None, error: str | None = None,
        next_check: datetime | None = None, new_articles: int = 0, keep_validators: bool = False,
    ) -> None:
        """Store the outcome of one check of a source (its feed or listing page)."""
        with self.transaction():
            if ok:
                validators = (
                    "" if keep_validators else ", etag = :etag, last_modified = :last_modified"
                )
                self.conn.execute(
                    "UPDATE sources SET last_checked = :now, last_success = :now,"
                    " last_status = :status, error_streak = 0, last_error = NULL,"
                    " next_check = :next, articles = articles + :new" + validators +
                    " WHERE name = :name",
                    {"now": iso(now), "status": status, "next": iso(next_check),
                     "new": new_articles, "etag": etag, "last_modified": last_modified,
                     "name": name},
                )
            else:
                self.conn.execute(
                    "UPDATE sources SET last_checked = :now, last_status = :status,"
                    " error_streak = error_streak + 1, last_error = :error, next_check = :next,"
                    " articles = articles + :new WHERE name = :name",
                    {"now": iso(now), "status": status, "error": error,
                     "next": iso(next_check), "new": new_articles, "name": name},
                )

    # -- errors --------------------------------------------------------------------------
    def record_error(self, *, source: str | None, url: str | None, kind: str, message: str,
                     now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO fetch_errors (at, source, url, kind, message) VALUES (?, ?, ?, ?, ?)",
                (iso(now), source, url, kind, message),
            )

    def errors(self, *, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        return self._all(
            f"SELECT * FROM fetch_errors {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )

    # -- HTTP validators per URL ---------------------------------------------------------
    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._one("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,))
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def cached_url(self, url: str) -> CachedURL | None:
        row = self._one("SELECT url, etag, last_modified, follow, status, ttl FROM http_cache"
                        " WHERE url = ?", (url,))
        if row is None:
            return None
        return CachedURL(row["url"], row["etag"], row["last_modified"], row["follow"],
                         row["status"], float(row["ttl"]) if row["ttl"] is not None else None)

    def save_cached_urls(self, entries: Iterable[CachedURL], *, now: datetime) -> None:
        """Store validators (follow link, TTL hint) per URL, in one transaction."""
        rows = [(e.url, e.etag, e.last_modified, e.follow, e.status, e.ttl, iso(now))
                for e in entries]
        if not rows:
            return
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO http_cache (url, etag, last_modified, follow, status, ttl, checked)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET"
                " etag = excluded.etag, last_modified = excluded.last_modified,"
                " follow = excluded.follow, status = excluded.status, ttl = excluded.ttl,"
                " checked = excluded.checked", rows)

    # -- articles ------------------------------------------------------------------------
    def known_url(self, url: str) -> int | None:
        """The id of the article stored under this URL (in any recorded form), if any."""
        row = self.conn.execute(
            "SELECT article_id FROM url_aliases WHERE url = ?", (url,)
        ).fetchone()
        return int(row[0]) if row else None

    def known_urls(self, urls: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk_start in range(0, len(urls), 500):
            chunk = list(urls[chunk_start:chunk_start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT url FROM url_aliases WHERE url IN ({marks})", chunk))
        return found

    def save_article(
        self, article: Article, *, source: str, canonical_url: str, aliases: Sequence[str],
        fetched: datetime, entry: Entry | None = None,
        dedup: DedupSettings | None = None,
    ) -> SaveResult:
        """Store an article with its aliases, attributions, index row, duplicate and story
        verdicts, in one transaction.

        If the canonical URL is stored already, or the body is an exact copy of a stored
        article, only the new URL aliases are added (``created`` is False).
        """
        settings = dedup or DEFAULT_DEDUP
        # The page's own date when it states one, else the feed entry's (both are stored).
        stated, stated_by = published_date(article, entry)
        published = stated or fetched
        # The fingerprint is pure and the slow part: compute it before taking the lock.
        feats = features_of(article.title, article.text, published, article.attributions,
                            url=canonical_url, settings=settings)
        with self.transaction():
            row = self.conn.execute(
                "SELECT id FROM articles WHERE canonical_url = ?", (canonical_url,)
            ).fetchone()
            if row:
                self._add_aliases(int(row[0]), [canonical_url, *aliases])
                return SaveResult(int(row[0]), False)
            dedup_index = self._dedup_for(settings)
            verdict = dedup_index.lookup(feats, published)
            if verdict.duplicate is not None and verdict.duplicate.exact:
                original = verdict.duplicate.duplicate_of
                self._add_aliases(original, [article.url, canonical_url, *aliases])
                return SaveResult(original, False, duplicate_of=original)
            # The story and band keys first, then the article row with its dedup columns in
            # one insert (no update of the fresh row afterwards).
            article_id = dedup_index.next_article_id()
            cols = dedup_index.record(verdict, article_id=article_id, feats=feats,
                                      title=article.title, source=source, published=published)
            image = article.image
            self.conn.execute(
                "INSERT INTO articles (id, url, canonical_url, source, title, authors, published,"
                " published_source, modified, feed_published, fetched, language, summary, text,"
                " html, site_name, image_url, image_caption, image_credit, section, tags, guid,"
                " content_hash, signature, duplicate_of, similarity, story_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?)",
                (
                    article_id, article.url, canonical_url, source, article.title,
                    json.dumps(list(article.authors), ensure_ascii=False),
                    iso(stated), stated_by, iso(article.modified),
                    iso(entry.published) if entry else None, iso(fetched), article.language,
                    article.summary, article.text, article.html, article.site_name,
                    image.url if image else None, image.caption if image else None,
                    image.credit if image else None, article.section,
                    json.dumps(list(article.tags), ensure_ascii=False),
                    entry.guid if entry else None, cols.content_hash, cols.signature,
                    cols.duplicate_of, cols.similarity, cols.story_id,
                ),
            )
            self._add_aliases(article_id, [article.url, canonical_url, *aliases])
            self.conn.executemany(
                "INSERT INTO attributions (article_id, kind, name, url, role, text, position,"
                " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (article_id, a.kind, a.name, a.url, a.role, a.text, a.position,
                     json.dumps(dict(a.details), ensure_ascii=False) if a.details else None)
                    for a in article.attributions
                ],
            )
            if article.attributions:
                self.conn.execute(
                    f"INSERT INTO attribution_names (rowid, name) SELECT id,"
                    f" {NAME_FOLD_SQL}(name) FROM attributions WHERE article_id = ?",
                    (article_id,))
            self.conn.execute(
                "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                (article_id, index_text(article.title), index_text(article.text)),
            )
            dup = verdict.duplicate
            return SaveResult(article_id, True, duplicate_of=dup.duplicate_of if dup else None,
                              story_id=cols.story_id)

    def _dedup_for(self, settings: DedupSettings) -> Deduplicator:
        """This connection's Deduplicator for ``settings`` (inside a write transaction). The
        first time, stored band keys cut with another banding (an older default, or
        ``bands``/``rows`` changed in the config) are rebuilt from the stored signatures."""
        dedup_index = self._dedup.get(settings)
        if dedup_index is None:
            dedup_index = Deduplicator(self.conn, settings)
            if not dedup_index.band_keys_current():
                log.warning("%s: near-duplicate band keys were cut with another banding;"
                            " rebuilding them from the stored signatures (once)", self.path)
                count = dedup_index.reindex_bands()
                log.warning("%s: near-duplicate band keys rebuilt for %d articles"
                            " (%d bands x %d rows)", self.path, count, settings.bands,
                            settings.rows)
            self._dedup[settings] = dedup_index
        return dedup_index

    def _add_aliases(self, article_id: int, urls: Iterable[str]) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO url_aliases (url, article_id) VALUES (?, ?)",
            [(u, article_id) for u in dict.fromkeys(urls) if u],
        )

    def article(self, id_or_url: int | str) -> dict[str, Any] | None:
        """One article as a dict (JSON-ready), with its attributions; None if unknown."""
        if isinstance(id_or_url, int) or (isinstance(id_or_url, str) and id_or_url.isdigit()):
            row = self._one("SELECT * FROM articles WHERE id = ?", (int(id_or_url),))
        else:
            row = self._one(
                "SELECT a.* FROM articles a JOIN url_aliases u ON u.article_id = a.id"
                " WHERE u.url = ?", (id_or_url,),
            )
        if row is None:
            return None
        return self._article_dict(row, full=True)

    def attributions(self, article_id: int) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT kind, name, url, role, text, position, details FROM attributions"
            " WHERE article_id = ? ORDER BY position, id", (article_id,),
        )
        for r in rows:
            r["details"] = json.loads(r["details"]) if r["details"] else {}
        return rows

    def unknown_sources(self, names: Iterable[str]) -> list[str]:
        """The names among ``names`` that are neither a known source nor on any article."""
        out = []
        for name in dict.fromkeys(names):
            row = self.conn.execute(
                "SELECT 1 FROM sources WHERE name = ? UNION ALL "
                "SELECT 1 FROM articles WHERE source = ? LIMIT 1", (name, name)).fetchone()
            if row is None:
                out.append(name)
        return out

    def has_story(self, story_id: int) -> bool:
        """Is there a story with this id (a stories row or an article in it)?"""
        return self.conn.execute(
            "SELECT 1 FROM stories WHERE id = ? UNION ALL "
            "SELECT 1 FROM articles WHERE story_id = ? LIMIT 1",
            (story_id, story_id)).fetchone() is not None

    def count_articles(self, source: str | None = None) -> int:
        if source:
            return int(self.conn.execute(
                "SELECT count(*) FROM articles WHERE source = ?", (source,)).fetchone()[0])
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def _article_dict(self, row: dict[str, Any], *, full: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row["id"], "url": row["url"], "canonical_url": row["canonical_url"],
            "source": row["source"], "title": row["title"],
            "authors": json.loads(row["authors"] or "[]"), "published": row["published"],
            "fetched": row["fetched"], "language": row["language"], "summary": row["summary"],
        }
        if full:
            out.update({
                "modified": row["modified"], "feed_published": row["feed_published"],
                "published_source": row["published_source"] or (
                    "page" if row["published"] else None),
                "site_name": row["site_name"], "image": row["image_url"],
                "image_caption": row["image_caption"], "image_credit": row["image_credit"],
                "section": row["section"], "tags": json.loads(row["tags"] or "[]"),
                "duplicate_of": row["duplicate_of"], "story_id": row["story_id"],
                "text": row["text"], "html": row["html"],
            })
        out["attributions"] = self.attributions(row["id"])
        return out

    # -- helpers -------------------------------------------------------------------------
    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        cur = self.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
