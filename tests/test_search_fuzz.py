"""Fuzz: whatever people type, parse_query gives valid FTS5 (run against a real table) or a
one-line QueryError. Needs hypothesis (test extra); skipped if it is not installed."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from aggregator.errors import QueryError  # noqa: E402
from aggregator.search.normalize import index_text  # noqa: E402
from aggregator.search.query import parse_query  # noqa: E402

DOCS = {
    1: ("Nikon Z6III review", "The Nikon Z6III brings a partially stacked sensor."),
    2: ("Panasonic L² Technology", "Lumix cameras use L² Technology autofocus."),
    3: ("Leica M11 Monochrom", "Leica’s new camera for Köln street photographers."),
    4: ("Sony 35 mm f/1.4 GM", "A 35mm lens, rumoured by Sony Alpha Rumors."),
}


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE VIRTUAL TABLE articles_fts USING fts5("
              "title, body, tokenize = 'unicode61 remove_diacritics 2')")
    c.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                  [(i, index_text(t), index_text(b)) for i, (t, b) in DOCS.items()])
    return c


ALPHABET = st.sampled_from(
    list('abcXYZ019 "“”„«»\'’()*-+:^{}[].,;!?/\\&|~@#$%=<>_\t\n')
    + ["AND", "OR", "NOT", "NEAR", "title:", "body:", "L²", "ﬁ", "Köln", "Z6-III", "35 mm",
       "é", "ß", "ø", "日本", "\x00", "\u200b", "\ufeff", "１", "Ⅲ"]
)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(ALPHABET, max_size=25).map("".join), st.text(max_size=40)))
def test_fuzz_always_valid_fts(conn: sqlite3.Connection, text: str) -> None:
    try:
        parsed = parse_query(text)
    except QueryError as err:
        assert "\n" not in str(err)
        return
    conn.execute(
        "SELECT rowid, bm25(articles_fts, 10.0, 1.0) FROM articles_fts"
        " WHERE articles_fts MATCH ? ORDER BY 2 LIMIT 20",
        (parsed.fts,),
    ).fetchall()
