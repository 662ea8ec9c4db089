"""The search SQL the store runs (and bench/search.py measures). Pure: text + params only.

Schema assumed (aggregator.store.schema): ``articles(id, source, published, fetched,
language, story_id, ...)`` with indexes on (source, published) and (published), and
``articles_fts(title, body)`` with rowid = articles.id, ids given in crawl order. The name
filters match a phrase in ``attribution_names(name)`` (rowid = attributions.id, names folded
by ``aggregator.search.normalize.fold_name``) and read ``attributions(id, article_id, kind)``.

How the store runs a search::

    parsed = parse_query(text)
    sql, params = probe_sql(parsed)
    many = conn.execute(sql, params).fetchone()[0] >= PROBE_CAP
    sql, params = search_sql(parsed, filters, many=many)
    rows = conn.execute(sql, params).fetchall()          # (id, score, published, floor)
    if not window_is_exact(rows, filters.limit):
        rows = conn.execute(*search_sql(parsed, filters, many=many, exact=True)).fetchall()
    # then load the articles for [r[0] for r in rows], keeping this order

Plans (``many`` = at least PROBE_CAP matches, from the cheap probe):

- relevance, BM25 with the title weighted 10 to the body's 1 (lower score is better):
  - few matches, or a language/story/attribution filter only: FTS5 yields every match,
    joined to the articles for the filters.
  - many matches with a source or date filter: every match is tested against a set built
    once from the (source, published) / (published) index; a date filter also bounds the
    FTS rowid range (the id range of articles published in the window).
  - many matches and no filter: ranking covers the RECENT_CAP most recent matches (by id,
    i.e. crawl order; one backwards FTS5 pass), so a one-word query over a million stories
    stays fast; for news that is the useful set. With one --source: the source's
    RECENT_CAP newest articles. ``exact=True`` ranks every match.
- newest / oldest:
  - few matches: every match, sorted by date.
  - many: if at least DENSE_CAP articles match (counted in the same statement, stopping
    at DENSE_CAP), the date index ((source, published) with one source, (published)
    otherwise; not with several sources, a language or a story) is walked in order and
    each article tested against FTS5 by rowid until the page is full: exact, and about
    (limit + offset) * articles / matches lookups.
    Used for oldest, and for newest with a source or date filter; below DENSE_CAP the
    match ids are collected once (no ranking) and the date index walked in order.
  - many, newest, no source/date filter: the WINDOW newest matches by id that pass the
    filters (FTS5 reads its index backwards and stops), sorted by date;
    ``window_is_exact`` proves the page exact (or the store re-runs with ``exact=True``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aggregator.search.normalize import fold_name
from aggregator.search.query import ParsedQuery

__all__ = ["SearchFilters", "probe_sql", "search_sql", "window_is_exact", "PROBE_CAP",
           "RECENT_CAP", "WINDOW", "TITLE_WEIGHT", "BODY_WEIGHT", "SORTS"]

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
PROBE_CAP = 5_000
RECENT_CAP = 5_000
WINDOW = 100
DENSE_CAP = 20_000
SORTS = ("relevance", "newest", "oldest")


@dataclass(frozen=True)
class SearchFilters:
    sources: tuple[str, ...] = ()
    since: datetime | str | None = None  # published >= since
    until: datetime | str | None = None  # published < until
    language: str | None = None
    story_id: int | None = None
    authors: tuple[str, ...] = ()  # written by (byline attributions)
    cites: tuple[str, ...] = ()  # cites this outlet / organisation (source, press_release)
    quoted: tuple[str, ...] = ()  # quotes this person
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0


def _iso(value: datetime | str) -> str:
    """The store's form: ISO 8601 in UTC to the second (text-sortable); naive = UTC."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _where(filters: SearchFilters, params: dict[str, Any]) -> list[str]:
    where = []
    if filters.sources:
        marks = []
        for i, name in enumerate(filters.sources):
            params[f"src{i}"] = name
            marks.append(f":src{i}")
        where.append(f"a.source IN ({', '.join(marks)})" if len(marks) > 1
                     else f"a.source = {marks[0]}")
    if filters.since is not None:
        params["since"] = _iso(filters.since)
        where.append("a.published >= :since")
    if filters.until is not None:
        params["until"] = _iso(filters.until)
        where.append("a.published < :until")
    if filters.language:
        params["lang"] = filters.language
        where.append("a.language = :lang")
    if filters.story_id is not None:
        params["story"] = filters.story_id
        where.append("a.story_id = :story")
    for label, kinds, names in (("au", "'author'", filters.authors),
                                ("ci", "'source', 'press_release'", filters.cites),
                                ("qu", "'quote'", filters.quoted)):
        for i, name in enumerate(names):
            # A name matches as a whole word sequence, folded the way the full-text index
            # folds text ("celine marchetti" finds "Céline Marchetti", "Leica" finds "Leica
            # Camera", not "Leicas"): a phrase query on the index of attribution names, so
            # the cost follows the matches, not the number of attributions stored.
            key = f"{label}{i}"
            phrase = name_phrase(name)
            if phrase is None:  # nothing word-like ("%", "-"): no name can match
                where.append("0")
                continue
            params[key] = phrase
            where.append(
                f"a.id IN (SELECT t.article_id FROM attribution_names n"
                f" JOIN attributions t ON t.id = n.rowid"
                f" WHERE attribution_names MATCH :{key} AND t.kind IN ({kinds}))"
            )
    return where


def name_phrase(name: str) -> str | None:
    """The FTS5 phrase that finds ``name`` in ``attribution_names``, or None when the name
    has no word in it. Words are folded like the index (``fold_name``)."""
    words = _WORD.findall(fold_name(name))
    return '"' + " ".join(words) + '"' if words else None


_WORD = re.compile(r"\w+")


def _date_bounds(filters: SearchFilters) -> tuple[str, list[str]]:
    """FTS rowid bounds from a date filter: the id range of the articles published in the
    window, as (WITH clause, conditions). Ids follow crawl order, so a date window is a
    narrow id range; still exact, as the date test is applied to every row too. ``id + 0``
    makes SQLite read the (published) index range instead of scanning rows by id."""
    conds = [c for c, v in (("published >= :since", filters.since),
                            ("published < :until", filters.until)) if v is not None]
    if not conds:
        return "", []
    return (
        "WITH bounds(lo, hi) AS MATERIALIZED (SELECT coalesce(min(id + 0), 0),"
        f" coalesce(max(id + 0), 0) FROM articles WHERE {' AND '.join(conds)}) ",
        ["articles_fts.rowid >= (SELECT lo FROM bounds)",
         "articles_fts.rowid <= (SELECT hi FROM bounds)"],
    )


def probe_sql(parsed: ParsedQuery, cap: int = PROBE_CAP) -> tuple[str, dict[str, Any]]:
    """SQL giving min(number of matches, cap) as one integer (no ranking, stops at cap)."""
    return (
        "SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :q"
        " LIMIT :cap)",
        {"q": parsed.fts, "cap": cap},
    )


def search_sql(
    parsed: ParsedQuery, filters: SearchFilters = SearchFilters(), *, many: bool = False,
    exact: bool = False,
) -> tuple[str, dict[str, Any]]:
    """SQL giving rows (id, score, published, floor), best first, one page.

    ``score`` is BM25 (lower is better) for relevance, else NULL; ``published`` and
    ``floor`` are only filled by the newest-first window plan (see ``window_is_exact``).
    """
    if filters.sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    params: dict[str, Any] = {"q": parsed.fts, "limit": filters.limit,
                              "offset": filters.offset}
    where = _where(filters, params)
    page = "LIMIT :limit OFFSET :offset"
    # The id bounds of a date window cost a walk over its (published) index range: worth it
    # only when FTS5 would otherwise read many matches.
    with_bounds, bounds = _date_bounds(filters) if many else ("", [])
    match = ["articles_fts MATCH :q", *bounds]
    if filters.sort == "relevance":
        params.update(tw=TITLE_WEIGHT, bw=BODY_WEIGHT)
        cols = "bm25(articles_fts, :tw, :bw) AS score, NULL AS published, NULL AS floor"
        if not where and many and not exact:
            # One pass: the RECENT_CAP + 1 newest matches (FTS5 reads backwards and stops),
            # ranked among themselves (+ 1: the same rows as the older two-pass form).
            params["recent"] = RECENT_CAP + 1
            return (
                "WITH recent(id, score) AS MATERIALIZED (SELECT rowid,"
                " bm25(articles_fts, :tw, :bw) FROM articles_fts WHERE articles_fts MATCH :q"
                " ORDER BY rowid DESC LIMIT :recent)"
                f" SELECT id, score, NULL AS published, NULL AS floor FROM recent"
                f" ORDER BY score {page}",
                params,
            )
        set_filter = many and (filters.sources or bounds)
        if not where or set_filter:
            if where and not exact and len(filters.sources) == 1:
                # Same recency cap within one source: its RECENT_CAP newest articles.
                params["recent"] = RECENT_CAP
                match.append(
                    "articles_fts.rowid >= coalesce((SELECT id FROM articles WHERE"
                    " source = :src0 ORDER BY published DESC LIMIT 1 OFFSET :recent), 0)"
                )
                # ... and the set below only holds those (an index range, not the whole
                # source).
                where = [*where, "a.published >= coalesce((SELECT published FROM articles"
                         " WHERE source = :src0 ORDER BY published DESC LIMIT 1"
                         " OFFSET :recent), '')"]
            if where:
                # A set built once from the indexes, tested per match; ``+`` keeps SQLite
                # from handing it to FTS5 as rowid lookups (one FTS query per id: slow).
                match.append("+articles_fts.rowid IN (SELECT a.id FROM articles a WHERE "
                             + " AND ".join(where) + ")")
            return (
                f"{with_bounds}SELECT rowid AS id, {cols} FROM articles_fts"
                f" WHERE {' AND '.join(match)} ORDER BY score {page}",
                params,
            )
        return (
            f"{with_bounds}SELECT a.id, {cols} FROM articles_fts"
            " JOIN articles a ON a.id = articles_fts.rowid"
            f" WHERE {' AND '.join(match + where)} ORDER BY score {page}",
            params,
        )
    direction = "DESC" if filters.sort == "newest" else "ASC"
    order = f"a.published {direction}, a.id {direction}"
    # One source at most: with several, SQLite would read all their articles to sort them.
    walkable = not filters.language and filters.story_id is None and len(filters.sources) < 2
    if many and walkable and (direction == "ASC" or filters.sources or bounds):
        # Dense matches: walk the date index ((source, published) with a source filter) in
        # order and test each article against FTS5 by rowid (one lookup per article, so only
        # when at least DENSE_CAP articles match); else collect the match ids once and walk.
        params["dense"] = DENSE_CAP
        test = "EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :q" \
               " AND articles_fts.rowid = a.id)"
        conds = [*where, "a.published IS NOT NULL"]
        return (
            "WITH n(dense) AS MATERIALIZED (SELECT count(*) >= :dense FROM (SELECT 1 FROM"
            " articles_fts WHERE articles_fts MATCH :q LIMIT :dense))"
            " SELECT * FROM (SELECT a.id, NULL AS score, NULL AS published, NULL AS floor"
            f" FROM articles a WHERE {' AND '.join([*conds, test])}"
            f" ORDER BY {order} LIMIT (SELECT :limit * dense FROM n) OFFSET :offset)"
            " UNION ALL"
            " SELECT * FROM (SELECT a.id, NULL, NULL, NULL FROM articles a WHERE "
            + " AND ".join(["a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts"
                            " MATCH :q LIMIT (SELECT -1 + dense FROM n))", *conds])
            + f" ORDER BY {order} {page})",
            params,
        )
    if not many or (bounds and not filters.sources):
        # FTS5 yields every match (in the date window's id range, if any), sorted by date.
        return (
            f"{with_bounds}SELECT a.id, NULL AS score, NULL AS published, NULL AS floor"
            " FROM articles_fts"
            " JOIN articles a ON a.id = articles_fts.rowid"
            f" WHERE {' AND '.join(match + where)} ORDER BY {order} {page}",
            params,
        )
    if direction == "DESC" and not exact:
        # The newest WINDOW matches (that pass the filters) in FTS rowid order, which FTS5
        # reads backwards and stops early; then sorted by date and checked by
        # window_is_exact.
        params["window"] = max(WINDOW, 4 * (filters.limit + filters.offset))
        if where:
            cand = ("SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
                    f" WHERE {' AND '.join(['articles_fts MATCH :q', *where])}"
                    " ORDER BY articles_fts.rowid DESC LIMIT :window")
        else:
            cand = ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"
                    " ORDER BY rowid DESC LIMIT :window")
        return (
            f"WITH cand(id) AS MATERIALIZED ({cand})"
            " SELECT a.id, NULL AS score, a.published AS published,"
            " (SELECT fetched FROM articles WHERE id = (SELECT min(id) FROM cand)) AS floor"
            f" FROM cand JOIN articles a ON a.id = cand.id ORDER BY {order} {page}",
            params,
        )
    conds = ["a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q)",
             *where, "a.published IS NOT NULL"]
    return (
        "SELECT a.id, NULL AS score, NULL AS published, NULL AS floor FROM articles a"
        f" WHERE {' AND '.join(conds)} ORDER BY {order} {page}",
        params,
    )


def window_is_exact(rows: list[tuple[Any, ...]], limit: int) -> bool:
    """Whether rows (id, score, published, floor) are the exact page. Only the newest-first
    window plan can say no; then run ``search_sql(..., exact=True)``.

    Nothing outside the window is newer than ``floor`` (when its oldest candidate was
    fetched): ids grow with fetch time and nothing is published after it is fetched. So
    the page is exact if its last row is not older than ``floor``, or the window held all
    the matches (fewer rows than the page)."""
    if not rows or rows[0][3] is None or len(rows) < limit:
        return True
    last = rows[-1][2]
    return last is not None and last >= rows[0][3]
