"""Full-text search over stored articles (FTS5, BM25 with the title weighted)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aggregator.errors import QueryError
import unicodedata
from aggregator.search.query import parse_query
from aggregator.store.db import Store, iso

TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
SNIPPET_CHARS = 180


@dataclass(frozen=True)
class SearchFilters:
    source: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 20


def search(store: Store, query: str, filters: SearchFilters = SearchFilters()) -> list[dict]:
    """Articles matching ``query``, best first, as JSON-ready dicts with snippet and score."""
    parsed = parse_query(query)
    where = ["articles_fts MATCH :q"]
    params: dict[str, Any] = {"q": parsed.fts, "limit": filters.limit}
    if filters.source:
        marks = []
        for i, name in enumerate(filters.source):
            params[f"s{i}"] = name
            marks.append(f":s{i}")
        where.append(f"a.source IN ({', '.join(marks)})")
    if filters.since:
        where.append("a.published >= :since")
        params["since"] = iso(filters.since)
    if filters.until:
        where.append("a.published < :until")
        params["until"] = iso(filters.until)
    sql = (
        "SELECT a.*, bm25(articles_fts, :tw, :bw) AS score FROM articles_fts"
        " JOIN articles a ON a.id = articles_fts.rowid"
        f" WHERE {' AND '.join(where)} ORDER BY score LIMIT :limit"
    )
    params.update(tw=TITLE_WEIGHT, bw=BODY_WEIGHT)
    try:
        rows = store._all(sql, params)
    except sqlite3.OperationalError as exc:
        raise QueryError(f"cannot search for {query!r}: {exc}") from None
    hits = []
    for row in rows:
        item = store._article_dict(row, full=False)
        item["snippet"] = snippet(row["text"] or "", parsed.terms)
        item["score"] = round(-float(row["score"]), 4)
        hits.append(item)
    return hits


def _fold_same_length(text: str) -> str:
    """Lower-case, accent-free text with the same length as ``text`` (for locating terms)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)[:1].lower() or ch
        out.append(base if len(base) == 1 else ch)
    return "".join(out)


def snippet(text: str, terms: tuple[str, ...], width: int = SNIPPET_CHARS) -> str:
    """A window of the original text around the first matched term."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    folded = _fold_same_length(flat)
    best = -1
    for term in terms:
        t = _fold_same_length(term).rstrip("*")
        if not t:
            continue
        pos = folded.find(t)
        if pos >= 0 and (best < 0 or pos < best):
            best = pos
    best = max(best, 0)
    start = max(0, best - width // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < best else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > best else end
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
