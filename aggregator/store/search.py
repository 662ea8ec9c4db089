"""Full-text search over stored articles: runs the SQL of ``aggregator.search.sql``
(FTS5, BM25 with the title weighted) and loads the matching articles."""

from __future__ import annotations

import sqlite3

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


def search(store: Store, query: str, filters: SearchFilters | None = None) -> list[dict]:
    """Articles matching ``query``, best first, as JSON-ready dicts with snippet and score."""
    filters = filters or SearchFilters()
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
