"""Duplicates and stories in the database: the SQL around the pure ``aggregator.dedup``.

Per new article, inside the store's write transaction:

1. ``lookup``: duplicate candidates by exact content hash and LSH band keys (a fixed number of
   indexed probes), ``find_duplicate``; the story of the original, or candidate stories by
   entity / model / press-release keys inside the time window, ``assign_story``.
2. ``record``: the article's dedup columns, its band keys (not for exact copies), a new or
   updated ``stories`` row, its story keys.

The cost does not grow with the number of stored articles: every query is an indexed probe
with a limit. Re-crawling a stored URL never gets here (the store stops at the URL alias), so
story assignments do not change.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from aggregator.dedup import (
    DEFAULT_SETTINGS,
    ArticleFeatures,
    DedupSettings,
    DuplicateCandidate,
    DuplicateDecision,
    Signature,
    StoryCandidate,
    assign_story,
    band_keys,
    band_keys_of_stored,
    entity_keys,
    find_duplicate,
)
from aggregator.store.timefmt import iso as store_iso

_SEP = "\x1f"  # between a story's keys in one group_concat value
_HASH_PROBE = ("SELECT id, signature, content_hash, duplicate_of, story_id FROM articles"
               " WHERE id IN (SELECT id FROM articles WHERE content_hash = ? LIMIT 5)")


@dataclass(frozen=True)
class Verdict:
    """What ``lookup`` decided for one incoming article."""

    duplicate: DuplicateDecision | None
    story_id: int | None  # None: a new story
    band_keys: tuple[int, ...]
    story_keys: tuple[str, ...]


@dataclass(frozen=True)
class DedupColumns:
    """The article row's dedup columns as ``record`` settled them: the caller inserts the
    row with them (one insert, no update afterwards)."""

    content_hash: str
    signature: bytes
    duplicate_of: int | None
    similarity: float | None
    story_id: int


#: Candidate stories kept in memory between articles (see ``Deduplicator``).
STORY_CACHE_SIZE = 1024


class Deduplicator:
    """Lookup and record for one connection. Keep one per connection: it remembers the
    candidate stories it read (their keys, titles and signatures), each with the story's
    article count, and reads a story again only when that count has changed (an article
    joined it, in this process or another). Call ``forget`` after a rollback."""

    def __init__(self, conn: sqlite3.Connection, settings: DedupSettings = DEFAULT_SETTINGS, *,
                 iso: Callable[[datetime], str | None] = store_iso,
                 story_cache: int = STORY_CACHE_SIZE) -> None:
        self.conn = conn
        self.story_cache = story_cache
        self.settings = settings
        self.iso = iso
        self._probes: dict[int, str] = {}
        self._story_probes: dict[int, str] = {}
        self._candidate_sql: dict[int, str] = {}
        # story id -> (its article count when read, the candidate built from it)
        self._stories: dict[int, tuple[int, StoryCandidate]] = {}
        # the candidate stories' counts as the last lookup read them
        self._counts: dict[int, int | None] = {}

    def forget(self) -> None:
        """Drop the remembered stories (after a rollback they may hold unwritten rows)."""
        self._stories.clear()

    def band_keys_current(self, sample: int = 3) -> bool:
        """Whether the stored band keys follow these settings' banding: the newest few
        articles with a signature long enough to be banded have all their keys."""
        conn, settings = self.conn, self.settings
        checked = 0
        for aid, data in conn.execute(
                "SELECT id, signature FROM articles WHERE signature IS NOT NULL"
                " ORDER BY id DESC LIMIT 50"):
            keys = band_keys_of_stored(data, settings)
            if not keys:
                continue
            marks = ",".join("?" * len(keys))
            found = conn.execute(f"SELECT count(*) FROM dedup_bands WHERE band_key IN ({marks})"
                                 " AND article_id = ?", (*keys, aid)).fetchone()[0]
            if found != len(keys):
                return False
            checked += 1
            if checked >= sample:
                break
        return True

    def reindex_bands(self, batch: int = 5000) -> int:
        """Rebuild ``dedup_bands`` from the stored signatures with these settings' banding
        (after ``bands`` or ``rows`` changed; no text is read again). Runs inside the
        caller's write transaction. Returns the number of articles indexed."""
        conn, settings = self.conn, self.settings
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS band_rows (band_key INTEGER, article_id"
                     " INTEGER)")
        conn.execute("DELETE FROM temp.band_rows")
        rows: list[tuple[int, int]] = []
        articles = 0
        for aid, data in conn.execute(
                "SELECT id, signature FROM articles WHERE signature IS NOT NULL"):
            keys = band_keys_of_stored(data, settings)
            if keys:
                articles += 1
                rows.extend((k, aid) for k in keys)
            if len(rows) >= batch:
                conn.executemany("INSERT INTO temp.band_rows VALUES (?, ?)", rows)
                rows.clear()
        conn.executemany("INSERT INTO temp.band_rows VALUES (?, ?)", rows)
        # Filled in key order: a compact B-tree, written front to back.
        conn.execute("DELETE FROM dedup_bands")
        conn.execute("INSERT OR IGNORE INTO dedup_bands (band_key, article_id)"
                     " SELECT band_key, article_id FROM temp.band_rows"
                     " ORDER BY band_key, article_id")
        conn.execute("DROP TABLE temp.band_rows")
        return articles

    def next_article_id(self) -> int:
        """The id the next inserted article gets (inside the write transaction)."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles"
                                     ).fetchone()[0])

    def lookup(self, feats: ArticleFeatures, published: datetime) -> Verdict:
        conn, settings = self.conn, self.settings
        keys = tuple(band_keys(feats.signature, settings))
        # One statement: the articles with the same content hash or a shared band key, with
        # their signatures and stories (two indexed probes, each with a limit).
        if keys:
            sql = self._probe_sql(len(keys))
            params: tuple[object, ...] = (feats.content_hash, *keys)
        else:
            sql, params = _HASH_PROBE, (feats.content_hash,)
        candidates: list[DuplicateCandidate] = []
        stories: dict[int, int | None] = {}
        for aid, sig, chash, dup_of, sid in conn.execute(sql, params):
            if sig is None or aid in stories:
                continue
            stories[aid] = sid
            candidates.append(DuplicateCandidate(aid, _signature(sig), chash, dup_of))
        dup = find_duplicate(feats.signature, feats.content_hash, candidates, settings)
        story_id: int | None = None
        if dup is not None:
            if dup.duplicate_of in stories:
                story_id = stories[dup.duplicate_of]
            else:
                row = conn.execute("SELECT story_id FROM articles WHERE id = ?",
                                   (dup.duplicate_of,)).fetchone()
                story_id = row[0] if row else None
        skeys = tuple(entity_keys(feats))
        self._counts = {}
        if story_id is None and skeys:
            top = self._candidate_stories(skeys, published)
            self._counts = dict(top)
            if top:
                decision = assign_story(feats, self._candidates(top), settings)
                story_id = decision.story_id
                if dup is None and decision.duplicate_of is not None:
                    # a near-duplicate the band keys missed, found among the story's articles
                    dup = DuplicateDecision(decision.duplicate_of,
                                            decision.similarity or 0.0, False)
        return Verdict(dup, story_id, keys, skeys)

    def _probe_sql(self, count: int) -> str:
        sql = self._probes.get(count)
        if sql is None:
            marks = ",".join("?" * count)
            sql = self._probes[count] = (
                "SELECT id, signature, content_hash, duplicate_of, story_id FROM articles"
                " WHERE id IN (SELECT id FROM articles WHERE content_hash = ? LIMIT 5)"
                " UNION ALL"
                " SELECT id, signature, content_hash, duplicate_of, story_id FROM articles"
                " WHERE id IN (SELECT DISTINCT article_id FROM dedup_bands"
                f" WHERE band_key IN ({marks})"
                f" LIMIT {int(self.settings.max_band_candidates)})")
        return sql

    def record(self, verdict: Verdict, *, article_id: int, feats: ArticleFeatures, title: str,
               source: str, published: datetime) -> DedupColumns:
        """Write the verdict for the article about to be inserted as ``article_id`` (from
        ``next_article_id``): its band keys, its story row, its story keys. Returns the
        columns to insert the article row with."""
        conn = self.conn
        when = self.iso(published)
        dup = verdict.duplicate
        story_id = verdict.story_id
        if dup is None or not dup.exact:
            conn.executemany("INSERT OR IGNORE INTO dedup_bands (band_key, article_id)"
                             " VALUES (?, ?)", [(k, article_id) for k in verdict.band_keys])
        if story_id is None:
            story_id = int(conn.execute(
                "INSERT INTO stories (title, first_seen, first_source, first_article,"
                " articles, sources, updated) VALUES (?, ?, ?, ?, 1, 1, ?)",
                (title, when, source, article_id, when)).lastrowid or 0)
            seen = when
        else:
            seen = conn.execute(
                "UPDATE stories SET articles = articles + 1, updated = max(updated, :t),"
                " title = CASE WHEN :t < first_seen THEN :title ELSE title END,"
                " first_source = CASE WHEN :t < first_seen THEN :src ELSE first_source END,"
                " first_article = CASE WHEN :t < first_seen THEN :aid ELSE first_article END,"
                " first_seen = min(first_seen, :t),"
                " sources = (SELECT count(source) FROM (SELECT source FROM articles"
                "            WHERE story_id = :sid UNION SELECT :src))"
                " WHERE id = :sid RETURNING first_seen",
                {"t": when, "src": source, "aid": article_id, "sid": story_id, "title": title}
            ).fetchone()[0]
        original = dup.duplicate_of if dup else None
        if dup is not None and not dup.exact and self._published_before(when, original):
            # Copies arrived out of order: the newcomer is the earliest copy, so it becomes
            # the original of the group.
            conn.execute("UPDATE articles SET duplicate_of = ?, similarity = ?"
                         " WHERE id = ? OR duplicate_of = ?",
                         (article_id, round(dup.similarity, 4), original, original))
            original = None
            self._stories.pop(story_id, None)  # its originals changed: read it again
        else:
            self._remember(story_id, verdict, seen, article_id=article_id, title=title,
                           feats=feats, original=original is None)
        conn.executemany("INSERT OR IGNORE INTO story_keys (key, story_id, seen) VALUES (?, ?, ?)",
                         [(k, story_id, seen) for k in verdict.story_keys])
        return DedupColumns(feats.content_hash, feats.signature.to_bytes(), original,
                            round(dup.similarity, 4) if dup and original else None, story_id)

    def _remember(self, story_id: int, verdict: Verdict, seen: str | None, *, article_id: int,
                  title: str, feats: ArticleFeatures, original: bool) -> None:
        """Bring the remembered candidate of the story the article joins (or starts) up to
        date with it, as reading the story again would give it."""
        cached = self._stories.pop(story_id, None)
        if verdict.story_id is None:  # a new story: its first article
            count, cand = 0, StoryCandidate(story_id, frozenset())
        elif cached is not None and self._counts.get(story_id) == cached[0]:
            count, cand = cached
        else:
            return  # not read in this lookup: read it when it is a candidate again
        if seen is None:
            return
        titles, signatures, ids = cand.titles, cand.signatures, cand.article_ids
        if original:  # the newest original comes first
            keep = self.settings.max_story_articles
            titles = (title, *titles)[:keep]
            signatures = (feats.signature, *signatures)[:keep]
            ids = (article_id, *ids)[:keep]
        self._cache(story_id, count + 1, StoryCandidate(
            story_id, cand.keys | frozenset(verdict.story_keys), titles, _from_iso(seen),
            signatures, ids))

    def _cache(self, story_id: int, count: int, cand: StoryCandidate) -> None:
        if self.story_cache <= 0:
            return
        cache = self._stories
        if len(cache) >= self.story_cache:
            del cache[next(iter(cache))]  # the oldest read
        cache[story_id] = (count, cand)

    def _published_before(self, when: str | None, other_id: int | None) -> bool:
        if when is None or other_id is None:
            return False
        row = self.conn.execute("SELECT coalesce(published, fetched) FROM articles WHERE id = ?",
                                (other_id,)).fetchone()
        return bool(row and row[0] and when < row[0])

    # -- candidate stories ---------------------------------------------------------------
    def _candidate_stories(self, skeys: Sequence[str], published: datetime
                           ) -> list[tuple[int, int | None]]:
        """The best candidate stories, each with its current article count."""
        window = timedelta(days=self.settings.window_days)
        low, high = self.iso(published - window), self.iso(published + window)
        # Per key, the newest stories in the window: a hot key (a brand) cannot crowd out
        # the rarer ones (a model code, a press release).
        # The weighting (an entity key counts 1, a model or press-release key 3) and the
        # ranking run in SQL: one statement, a few rows back.
        params: list[object] = []
        for key in skeys:
            params += [key, low, high, self.settings.max_key_stories]
        return self.conn.execute(self._stories_sql(len(skeys)), params).fetchall()

    def _stories_sql(self, count: int) -> str:
        sql = self._story_probes.get(count)
        if sql is None:
            one = ("SELECT * FROM (SELECT story_id, key FROM story_keys WHERE key = ? AND"
                   " seen BETWEEN ? AND ? ORDER BY seen DESC LIMIT ?)")
            sql = self._story_probes[count] = (
                "SELECT r.story_id, s.articles FROM (SELECT story_id,"
                " sum(CASE WHEN substr(key, 1, 1) = 'e' THEN 1 ELSE 3 END) AS weight FROM ("
                + " UNION ALL ".join([one] * count) + ") GROUP BY story_id"
                " ORDER BY weight DESC, story_id"
                f" LIMIT {int(self.settings.max_candidate_stories)}) r"
                " LEFT JOIN stories s ON s.id = r.story_id ORDER BY r.weight DESC, r.story_id")
        return sql

    def _candidates(self, top: Sequence[tuple[int, int | None]]) -> list[StoryCandidate]:
        cache = self._stories
        found: dict[int, StoryCandidate] = {}
        missing: list[int] = []
        for sid, count in top:
            hit = cache.get(sid)
            if hit is not None and hit[0] == count:
                found[sid] = hit[1]
            else:
                missing.append(sid)
        if missing:
            counts = dict(top)
            for cand in self._read_candidates(missing):
                found[cand.story_id] = cand
                count = counts[cand.story_id]
                if count is not None:
                    self._cache(cand.story_id, count, cand)
        return [found[sid] for sid, _ in top]

    def _read_candidates(self, story_ids: Sequence[int]) -> list[StoryCandidate]:
        keys: dict[int, frozenset[str]] = {}
        titles: dict[int, list[str]] = defaultdict(list)
        sigs: dict[int, list[Signature]] = defaultdict(list)
        ids: dict[int, list[int]] = defaultdict(list)
        first: dict[int, str] = {}
        per_story = self.settings.max_story_articles
        # One statement: the stories' first times, their keys, each one's newest originals.
        params: list[object] = [*story_ids, *story_ids]
        for sid in story_ids:
            params += [sid, per_story]
        for kind, sid, text, aid, sig in self.conn.execute(
                self._candidates_sql(len(story_ids)), params):
            if kind == 1:
                keys[sid] = _keyset(text)
            elif kind == 2:
                titles[sid].append(text)
                sigs[sid].append(_signature(sig))
                ids[sid].append(aid)
            else:
                first[sid] = text
        return [StoryCandidate(sid, keys.get(sid, frozenset()), tuple(titles[sid]),
                               _from_iso(first[sid]) if sid in first else None,
                               tuple(sigs[sid]), tuple(ids[sid]))
                for sid in story_ids]

    def _candidates_sql(self, count: int) -> str:
        sql = self._candidate_sql.get(count)
        if sql is None:
            marks = ",".join("?" * count)
            newest = ("SELECT * FROM (SELECT 2, story_id, title, id, signature FROM articles"
                      " WHERE story_id = ? AND duplicate_of IS NULL AND signature IS NOT NULL"
                      " ORDER BY id DESC LIMIT ?)")
            sql = self._candidate_sql[count] = (
                f"SELECT 0, id, first_seen, NULL, NULL FROM stories WHERE id IN ({marks})"
                " UNION ALL"
                " SELECT 1, story_id, group_concat(key, char(31)), NULL, NULL FROM story_keys"
                f" WHERE story_id IN ({marks}) GROUP BY story_id"
                " UNION ALL " + " UNION ALL ".join([newest] * count))
        return sql


@lru_cache(maxsize=4096)
def _keyset(concatenated: str) -> frozenset[str]:
    """A story's keys from their ``group_concat``. The same story read again gets the same
    frozenset object, whose hash is kept, so the scoring caches keyed by it hit at once."""
    return frozenset(concatenated.split(_SEP))


@lru_cache(maxsize=4096)
def _signature(data: bytes) -> Signature:
    """``Signature.from_bytes`` through a bounded cache keyed by the stored bytes: the newest
    articles of the stories in the time window are read again by lookup after lookup."""
    return Signature.from_bytes(data)


@lru_cache(maxsize=4096)
def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
