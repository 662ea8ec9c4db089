"""Database schema and migrations.

The schema version lives in ``meta.schema_version``. ``migrate(db)`` brings any older file
up to ``SCHEMA_VERSION`` one step at a time, each step in its own transaction; a file from a
newer version of the program is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from aggregator.errors import StoreError
from aggregator.search.normalize import NAME_FOLD_SQL

SCHEMA_VERSION = 7


def _v1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["sources"].create(
        {
            "name": str, "title": str, "kind": str, "url": str, "interval": int,
            "etag": str, "last_modified": str,
            "last_checked": str, "last_success": str, "last_status": int,
            "last_error": str, "error_streak": int, "next_check": str,
            "articles": int,
            # scheduling: the adaptive interval in force, when new items last appeared,
            # and a host's Retry-After that pushes the next check later
            "current_interval": int, "last_new_at": str, "retry_after_until": str,
        },
        pk="name", defaults={"error_streak": 0, "articles": 0}, if_not_exists=True,
    )
    db["articles"].create(
        {
            "id": int, "url": str, "canonical_url": str, "source": str, "title": str,
            "authors": str, "published": str, "modified": str, "feed_published": str,
            "fetched": str, "language": str, "summary": str, "text": str, "html": str,
            "site_name": str, "image_url": str, "image_caption": str, "image_credit": str,
            "section": str, "tags": str, "guid": str, "content_hash": str,
            "signature": bytes, "duplicate_of": int, "similarity": float, "story_id": int,
        },
        pk="id", not_null={"url", "canonical_url", "title", "text", "fetched"},
        if_not_exists=True,
    )
    db["articles"].create_index(["canonical_url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["url"], unique=True, if_not_exists=True)
    db["articles"].create_index(["source", "published"], if_not_exists=True)
    db["articles"].create_index(["published"], if_not_exists=True)
    db["articles"].create_index(["source", "fetched"], if_not_exists=True)
    db["articles"].create_index(["content_hash"], if_not_exists=True)
    # Every URL form an article was seen under (feed link, final URL, canonical URL), so a
    # URL already stored in any form is not fetched again.
    db["url_aliases"].create({"url": str, "article_id": int}, pk="url", if_not_exists=True)
    db["url_aliases"].create_index(["article_id"], if_not_exists=True)
    db["attributions"].create(
        {
            "id": int, "article_id": int, "kind": str, "name": str, "url": str, "role": str,
            "text": str, "position": int, "details": str,
        },
        pk="id", not_null={"article_id", "kind", "name"}, if_not_exists=True,
    )
    db["attributions"].create_index(["article_id"], if_not_exists=True)
    db["attributions"].create_index(["kind", "name"], if_not_exists=True)
    db["fetch_errors"].create(
        {"id": int, "at": str, "source": str, "url": str, "kind": str, "message": str},
        pk="id", if_not_exists=True,
    )
    db["fetch_errors"].create_index(["source", "at"], if_not_exists=True)
    # One row per source check, for status/health history.
    db["crawl_runs"].create(
        {"id": int, "source": str, "started": str, "finished": str, "status": str,
         "http_status": int, "entries": int, "new": int, "errors": int, "message": str},
        pk="id", if_not_exists=True,
    )
    db["crawl_runs"].create_index(["source", "started"], if_not_exists=True)
    # Stories: articles about the same event (see aggregator.dedup.stories).
    db["stories"].create(
        {"id": int, "title": str, "first_seen": str, "first_source": str,
         "first_article": int, "articles": int, "sources": int, "updated": str},
        pk="id", if_not_exists=True,
    )
    db["stories"].create_index(["first_seen"], if_not_exists=True)
    # Near-duplicate candidate lookup: LSH band keys -> article (no pairwise scans).
    db["dedup_bands"].create({"band_key": int, "article_id": int}, if_not_exists=True)
    db["dedup_bands"].create_index(["band_key"], if_not_exists=True)
    # Story candidate lookup: entity / press-release keys -> story.
    db["story_keys"].create({"key": str, "story_id": int, "seen": str}, if_not_exists=True)
    db["story_keys"].create_index(["key", "seen"], if_not_exists=True)
    db["story_keys"].create_index(["story_id", "key"], unique=True, if_not_exists=True)
    db["articles"].create_index(["story_id"], if_not_exists=True)
    db["articles"].create_index(["duplicate_of"], if_not_exists=True)
    # Validators per URL for conditional GET (feeds and pages).
    db["http_cache"].create(
        {"url": str, "etag": str, "last_modified": str, "checked": str, "status": int},
        pk="url", if_not_exists=True,
    )
    # Full-text index. The store writes its rows itself (rowid = articles.id) with text
    # folded by aggregator.search.normalize, in the same transaction as the article.
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
        "title, body, tokenize = 'unicode61 remove_diacritics 2')"
    )


def _v2(db: sqlite_utils.Database) -> None:
    # Per URL, where its last full response led (a discovered feed, a listing's next page)
    # and a feed's own refresh hint, so a 304 on that URL can still follow the link and
    # honour the hint without a body to parse.
    columns = {c.name for c in db["http_cache"].columns}
    if "follow" not in columns:
        db.execute("ALTER TABLE http_cache ADD COLUMN follow TEXT")
    if "ttl" not in columns:
        db.execute("ALTER TABLE http_cache ADD COLUMN ttl REAL")


def _v3(db: sqlite_utils.Database) -> None:
    # Watch alerts waiting for their webhook: written when an article matches, deleted once
    # the POST succeeds, retried on the next crawl while pending; a permanent failure (4xx,
    # a refused address) is kept as status 'failed' with its reason.
    db["watch_outbox"].create(
        {"id": int, "watch": str, "webhook": str, "payload": str, "created": str,
         "status": str, "attempts": int, "last_attempt": str, "last_error": str},
        pk="id", not_null={"watch", "webhook", "payload", "created", "status"},
        defaults={"status": "pending", "attempts": 0}, if_not_exists=True,
    )
    db["watch_outbox"].create_index(["status", "id"], if_not_exists=True)


def _rebuild_without_rowid(db: sqlite_utils.Database, table: str, columns: str,
                           key: tuple[str, ...]) -> None:
    """Replace ``table`` by a WITHOUT ROWID table with the same rows, keyed ``key``
    (a repeated key is stored once; rows with a NULL key part are dropped)."""
    conn = db.conn
    names = ", ".join(c.split()[0] for c in columns.split(", "))
    keys = ", ".join(key)
    conn.execute(f"CREATE TABLE {table}_new ({columns}, PRIMARY KEY ({keys})) WITHOUT ROWID")
    if table in db.table_names():
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in key)
        conn.execute(f"INSERT OR IGNORE INTO {table}_new ({names}) SELECT {names} FROM {table}"
                     f" WHERE {not_null} ORDER BY {keys}")
        conn.execute(f"DROP TABLE {table}")  # and its indexes
    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")


def _v4(db: sqlite_utils.Database) -> None:
    # LSH band keys as one covering B-tree: a WITHOUT ROWID table keyed (band_key,
    # article_id) instead of a rowid table plus an index on band_key. Each stored key is one
    # B-tree insert instead of two, the probe reads article ids straight from the key, and a
    # repeated (key, article) pair is stored once (inserts are INSERT OR IGNORE).
    _rebuild_without_rowid(db, "dedup_bands",
                           "band_key INTEGER NOT NULL, article_id INTEGER NOT NULL",
                           ("band_key", "article_id"))


def _v5(db: sqlite_utils.Database) -> None:
    # Story keys as a WITHOUT ROWID table keyed (story_id, key) (the old unique index) with
    # the index on (key, seen): that index then holds story_id too, so the candidate-story
    # probe reads no table rows, and a key costs two B-tree inserts instead of three.
    _rebuild_without_rowid(db, "story_keys",
                           "key TEXT NOT NULL, story_id INTEGER NOT NULL, seen TEXT",
                           ("story_id", "key"))
    db.conn.execute("CREATE INDEX idx_story_keys_key_seen ON story_keys (key, seen)")


def _v6(db: sqlite_utils.Database) -> None:
    # A full-text index of attribution names (rowid = attributions.id), folded like the
    # article index, for --author / --cites / --quoted: a name is found by an indexed
    # phrase match instead of a scan of every attribution. Contentless: it holds only the
    # index; attributions are never deleted. Needs the store's NAME_FOLD_SQL function.
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS attribution_names USING fts5("
        "name, content = '', tokenize = 'unicode61 remove_diacritics 2')"
    )
    db.execute(
        f"INSERT INTO attribution_names (rowid, name)"
        f" SELECT id, {NAME_FOLD_SQL}(name) FROM attributions"
    )


def _v7(db: sqlite_utils.Database) -> None:
    # Which date ``published`` holds: "page" (the article page's own metadata) or "feed"
    # (the page gives none; the feed entry's date). Both dates stay: ``feed_published`` keeps
    # the feed's. Older rows kept a page-less article's ``published`` empty, so date filters
    # and date order skipped it: they now take the feed's date, marked as such.
    # Older dated rows keep NULL there (read as "page"): rewriting every row of a large
    # store would copy the whole file through the WAL for one word.
    db.execute("ALTER TABLE articles ADD COLUMN published_source TEXT")
    db.execute("UPDATE articles SET published = feed_published, published_source = 'feed'"
               " WHERE published IS NULL AND feed_published IS NOT NULL")


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {
    1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6, 7: _v7,
}


def current_version(db: sqlite_utils.Database) -> int:
    if "meta" not in db.table_names():
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the database to SCHEMA_VERSION. Returns the version it was at."""
    start = current_version(db)
    if start > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {start} is newer than this program's "
            f"({SCHEMA_VERSION}); upgrade aggregator"
        )
    conn = db.conn
    for version in range(start + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if current_version(db) >= version:  # another process took this step meanwhile
                conn.execute("COMMIT")
                continue
            MIGRATIONS[version](db)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(version),),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return start
