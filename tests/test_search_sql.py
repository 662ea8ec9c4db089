"""Search SQL plans: every plan runs on the real schema and agrees with a plain reference."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.search.normalize import index_text
from aggregator.search.query import parse_query
from aggregator.search.sql import (
    SearchFilters,
    probe_sql,
    search_sql,
    window_is_exact,
)
from aggregator.store import Store

WORDS = ["camera", "lens", "sensor", "nikon", "canon", "leica", "firmware", "video", "review",
         "rumor"]
START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = Path(tmp_path_factory.mktemp("sql")) / "s.db"
    st = Store.open(path)
    rng = random.Random(7)
    rows = []
    for i in range(1, 401):
        fetched = START + timedelta(hours=6 * i)
        published = fetched - timedelta(hours=rng.choice([1, 2, 5, 30, 24 * 90]))
        title = " ".join(rng.choices(WORDS, k=3))
        body = " ".join(rng.choices(WORDS + ["the", "a", "of"], k=30))
        rows.append((i, f"https://x.example/{i}", f"src{i % 4}", title, body,
                     published.isoformat(), fetched.isoformat(), "en" if i % 5 else "de"))
    with st.transaction() as conn:
        conn.executemany(
            "INSERT INTO articles (id, url, canonical_url, source, title, text, published,"
            " fetched, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], r[1], *r[2:]) for r in rows])
        conn.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                         [(r[0], index_text(r[3]), index_text(r[4])) for r in rows])
    return st


def reference(store: Store, query: str, f: SearchFilters) -> list[int]:
    """Every match, filtered and sorted the slow, obvious way."""
    sql = ("SELECT a.id, a.published, bm25(articles_fts, 10.0, 1.0) FROM articles_fts"
           " JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?")
    rows = store.conn.execute(sql, (parse_query(query).fts,)).fetchall()
    a = {r[0]: r for r in store.conn.execute("SELECT id, source, published, language"
                                             " FROM articles")}
    keep = [r for r in rows
            if (not f.sources or a[r[0]][1] in f.sources)
            and (f.since is None or a[r[0]][2] >= f.since)
            and (f.until is None or a[r[0]][2] < f.until)
            and (f.language is None or a[r[0]][3] == f.language)]
    if f.sort == "relevance":
        keep.sort(key=lambda r: (r[2], r[0]))
    else:
        keep.sort(key=lambda r: (r[1], r[0]), reverse=f.sort == "newest")
    return [r[0] for r in keep][f.offset:f.offset + f.limit]


def run(store: Store, query: str, f: SearchFilters, many: bool, exact: bool = False):
    sql, params = search_sql(parse_query(query), f, many=many, exact=exact)
    return store.conn.execute(sql, params).fetchall()


FILTERS = [
    SearchFilters(),
    SearchFilters(sources=("src1",)),
    SearchFilters(sources=("src1", "src2")),
    SearchFilters(since="2024-02-01T00:00:00+00:00"),
    SearchFilters(since="2024-02-01T00:00:00+00:00", until="2024-03-01T00:00:00+00:00"),
    SearchFilters(language="de"),
    SearchFilters(sources=("src3",), since="2024-01-15T00:00:00+00:00"),
]


@pytest.mark.parametrize("query", ["camera", "nikon -rumor", '"camera lens"', "lei*"])
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize("fi", range(len(FILTERS)))
def test_plans_agree_with_reference(store: Store, query: str, sort: str, many: bool,
                                    fi: int) -> None:
    base = FILTERS[fi]
    f = SearchFilters(**{**base.__dict__, "sort": sort, "limit": 15, "offset": 5})
    rows = run(store, query, f, many)
    if not window_is_exact(rows, f.limit):
        rows = run(store, query, f, many, exact=True)
    got = [r[0] for r in rows]
    want = reference(store, query, f)
    if sort == "relevance" and many and not (f.sources or f.since or f.until or f.language):
        assert set(got) <= set(want) | set(reference(store, query, SearchFilters(
            sort="relevance", limit=10_000)))  # ranking limited to the recent matches
        assert len(got) == len(want)
    elif sort == "relevance":
        # BM25 ties may order differently; the scores must match.
        assert len(got) == len(want)
        assert sorted(got) == sorted(want) or len({r[1] for r in rows}) < len(rows)
    else:
        assert got == want


def test_probe_counts_up_to_cap(store: Store) -> None:
    sql, params = probe_sql(parse_query("camera"), cap=7)
    assert store.conn.execute(sql, params).fetchone()[0] == 7
    sql, params = probe_sql(parse_query("zzzz"), cap=7)
    assert store.conn.execute(sql, params).fetchone()[0] == 0


def test_window_check() -> None:
    floor = "2024-05-01T00:00:00+00:00"
    page = [(1, None, "2024-06-01T00:00:00+00:00", floor)] * 20
    assert window_is_exact(page, 20)
    late = page[:-1] + [(2, None, "2024-04-01T00:00:00+00:00", floor)]
    assert not window_is_exact(late, 20)
    assert window_is_exact(late[:10], 20)  # the window held every match
    assert window_is_exact([(1, 0.5, None, None)] * 20, 20)
    assert window_is_exact([], 20)


def test_every_combination_is_valid_sql(store: Store) -> None:
    parsed = parse_query("camera OR (lens -rumor)")
    for sort, many, exact, src, since, until, lang in itertools.product(
        ("relevance", "newest", "oldest"), (False, True), (False, True), ((), ("src1",)),
        (None, datetime(2024, 2, 1)), (None, datetime(2024, 3, 1, tzinfo=UTC)), (None, "en"),
    ):
        f = SearchFilters(sources=src, since=since, until=until, language=lang, sort=sort)
        sql, params = search_sql(parsed, f, many=many, exact=exact)
        store.conn.execute(sql, params).fetchall()


def test_bad_sort() -> None:
    with pytest.raises(ValueError):
        search_sql(parse_query("x"), SearchFilters(sort="best"))


@pytest.mark.parametrize("query", ["camera", "nikon -rumor", '"camera lens"', "lei*"])
@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("fi", range(len(FILTERS)))
def test_dense_walk_agrees_with_reference(store: Store, monkeypatch: pytest.MonkeyPatch,
                                          query: str, sort: str, fi: int) -> None:
    """With DENSE_CAP lowered, the date-index walk (EXISTS per article) is the plan taken."""
    import aggregator.search.sql as sqlmod

    monkeypatch.setattr(sqlmod, "DENSE_CAP", 3)
    f = SearchFilters(**{**FILTERS[fi].__dict__, "sort": sort, "limit": 15, "offset": 5})
    rows = run(store, query, f, True)
    if not window_is_exact(rows, f.limit):
        rows = run(store, query, f, True, exact=True)
    assert [r[0] for r in rows] == reference(store, query, f)
