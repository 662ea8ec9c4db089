"""Query parser: tables of inputs, and a fuzz against a real FTS5 table."""

from __future__ import annotations

import sqlite3

import pytest

from aggregator.errors import QueryError
from aggregator.search.normalize import index_text
from aggregator.search.query import MAX_TERMS, parse_query

DOCS = {
    1: ("Nikon Z6III review", "The Nikon Z6III brings a partially stacked sensor."),
    2: ("Panasonic L² Technology explained", "Lumix cameras use L² Technology autofocus."),
    3: ("Leica M11 Monochrom", "Leica’s new camera for Köln street photographers."),
    4: ("Sony 35 mm f/1.4 GM", "A 35mm lens with a fast aperture, rumoured by Sony Alpha Rumors."),
    5: ("Canon EOS R5 Mark II", "Canon's EOS R5 Mark II adds eye-control AF."),
    6: ("Fujifilm X100 V", "The X100V is still the one to beat; the X-T5 is next."),
    7: ("Nikon Z6-III firmware", "Firmware 1.10 for the Z6 III fixes bugs."),
}


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE VIRTUAL TABLE articles_fts USING fts5("
              "title, body, tokenize = 'unicode61 remove_diacritics 2')")
    c.executemany("INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                  [(i, index_text(t), index_text(b)) for i, (t, b) in DOCS.items()])
    return c


def ids(conn: sqlite3.Connection, query: str) -> set[int]:
    fts = parse_query(query).fts
    rows = conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (fts,))
    return {r[0] for r in rows}


@pytest.mark.parametrize("query,expected", [
    ("nikon", {1, 7}),
    ("Z6III", {1, 7}), ("Z6 III", {1, 7}), ("Z6-III", {1, 7}), ("z6iii firmware", {7}),
    ("Z6", {1, 7}), ("III", {1, 7}),
    ("L2", {2}), ("L²", {2}), ('"L² Technology"', {2}), ("“L² Technology”", {2}),
    ('"l2 technology"', {2}),
    ("koln", {3}), ("Köln", {3}), ("KÖLN", {3}), ("leica's", {3}), ("Leica’s", {3}),
    ("35mm", {4}), ("35 mm", {4}), ("35", {4}), ("mm", {4}),
    ("EOS R5", {5}), ("EOS-R5", {5}), ("R5", {5}), ("eosr5", set()), ("eos-r5*", {5}),
    ('"canon eos-r5 mark"', {5}), ("title:eos-r5", {5}), ("X-T5", {6}), ("e-mail", set()),
    ("X100V", {6}), ("X100 V", {6}), ("X-T5", {6}), ("XT5", {6}),
    ("leic*", {3}), ("lei*", {3}), ("mono*", {3}),
    ("nikon OR canon", {1, 5, 7}), ("nikon AND firmware", {7}), ("nikon NOT firmware", {1}),
    ("nikon -firmware", {1}), ('nikon -"firmware 1.10"', {1}),
    ("(nikon OR canon) mark", {5}), ("title:firmware", {7}), ("body:stacked", {1}),
    ("title:stacked", set()), ('title:"m11 monochrom"', {3}), ("text:stacked", {1}),
    ("sony and", set()), ("sony AND", {4}), ("AND sony", {4}), ("sony OR", {4}),
    ("sony NOT", {4}), ('sony "alpha', {4}), ("(sony", {4}), ("sony)", {4}),
    ("sony - lens", {4}), ("sony *", {4}), ("foo:bar", set()), ("sony:alpha", {4}),
    ("nikon AND AND z6", {1, 7}), ("()sony", {4}), ("firm*ware", set()),
])
def test_queries_find(conn: sqlite3.Connection, query: str, expected: set[int]) -> None:
    assert ids(conn, query) == expected


@pytest.mark.parametrize("query,message", [
    ("", "no words"), ("   ", "no words"), ("*", "no words"),
    ("-", "no words"), ('"', "no words"), ("AND", "no words"), ("()", "no words"),
    ("NOT sony", "every word is excluded"), ("-sony", "every word is excluded"),
    ("-sony -nikon", "every word is excluded"), (":", "no words"), ("!!! ???", "no words"),
    ("OR", "only punctuation or operators"),
])
def test_refused_with_one_line(query: str, message: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(query)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_too_many_terms() -> None:
    with pytest.raises(QueryError, match="too long"):
        parse_query(" ".join(f"w{i}x" for i in range(MAX_TERMS + 1)))


def test_terms_for_highlighting() -> None:
    p = parse_query('“L² Technology” leic* -sony nikon OR Z6 III')
    assert p.terms == ("l2 technology", "leic*", "nikon", "z6iii")


def test_deep_parentheses_are_flattened(conn: sqlite3.Connection) -> None:
    assert ids(conn, "(" * 300 + "nikon" + ")" * 300) == {1, 7}
