"""Full-text search over stored articles: runs the SQL of ``aggregator.search.sql``
(FTS5, BM25 with the title weighted) and loads the matching articles."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from aggregator.errors import QueryError
from aggregator.search.highlight import spans
from aggregator.search.query import parse_query
from aggregator.search.sql import (
    PROBE_CAP,
    SearchFilters,
    probe_sql,
    search_sql,
    window_is_exact,
)
from aggregator.store.db import Store

__all__ = ["SearchFilters", "search", "snippet"]

SNIPPET_CHARS = 180


def search(store: Store, query: str, filters: SearchFilters | None = None, *,
           per_story: bool = False) -> list[dict]:
    """Articles matching ``query``, best first, as JSON-ready dicts with snippet and score.

    ``per_story``: one row per story (its best-matching article), with ``story_articles``
    and ``story_sources`` telling how much more coverage the story has.
    """
    filters = filters or SearchFilters()
    if not per_story:
        return _search(store, query, filters)
    want = filters.limit
    batch = max(want * 5, 50)
    out: list[dict] = []
    seen: set[int] = set()
    ids: set[int] = set()  # pages run separately: an article on a tie may come twice
    offset = filters.offset
    # Pages of hits until ``want`` stories are found or the matches run out: one big story
    # can fill a whole page with its own articles.
    while len(out) < want:
        hits = _search(store, query, replace(filters, limit=batch, offset=offset))
        for hit in hits:
            if hit["id"] in ids:
                continue
            ids.add(hit["id"])
            story = hit.get("story_id")
            if story is not None:
                if story in seen:
                    continue
                seen.add(story)
                row = store.conn.execute("SELECT articles, sources FROM stories WHERE id = ?",
                                         (story,)).fetchone()
                if row:
                    hit["story_articles"], hit["story_sources"] = int(row[0]), int(row[1])
            out.append(hit)
            if len(out) == want:
                break
        if len(hits) < batch:
            break
        offset += batch
        batch = min(batch * 2, 5_000)
    return out


def _search(store: Store, query: str, filters: SearchFilters) -> list[dict]:
    parsed = parse_query(query)
    try:
        sql, params = probe_sql(parsed)
        many = store.conn.execute(sql, params).fetchone()[0] >= PROBE_CAP
        sql, params = search_sql(parsed, filters, many=many)
        ranked = store.conn.execute(sql, params).fetchall()  # (id, score, published, floor)
        if not window_is_exact(ranked, filters.limit):
            sql, params = search_sql(parsed, filters, many=many, exact=True)
            ranked = store.conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        raise QueryError(f"cannot search for {query!r}: {exc}") from None
    hits = []
    for article_id, score, *_ in ranked:
        row = store._one("SELECT * FROM articles WHERE id = ?", (article_id,))
        if row is None:
            continue
        item = store._article_dict(row, full=False)
        item["story_id"] = row["story_id"]
        item["snippet"] = snippet(row["text"] or "", parsed.terms)
        item["score"] = round(-float(score), 4) if score is not None else None
        hits.append(item)
    return hits


def snippet(text: str, terms: tuple[str, ...], width: int = SNIPPET_CHARS) -> str:
    """A window of the original text around the first matched term."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    found = spans(flat, terms)
    first = found[0][0] if found else 0
    start = max(0, first - width // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > first else end
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
