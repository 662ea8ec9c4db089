"""Text folding for the index and queries: tables of spellings that must meet."""

from __future__ import annotations

import pytest

from aggregator.search.highlight import mark, spans
from aggregator.search.normalize import fold, fold_query, index_text, tokens


@pytest.mark.parametrize("raw,folded", [
    ("Köln", "koln"), ("KÖLN", "koln"), ("Düsseldorf", "dusseldorf"), ("Ørsted", "orsted"),
    ("Łódź", "lodz"), ("Straße", "strasse"), ("Æble", "aeble"), ("crème brûlée", "creme brulee"),
    ("L²", "l2"), ("ﬁlm", "film"), ("Ｚ６", "z6"), ("Ⅲ", "iii"), ("e\u0301", "e"),
    ("Nikon’s", "nikon's"), ("Nikon‘s", "nikon's"), ("“quoted”", '"quoted"'),
    ("«guillemets»", '"guillemets"'), ("Z6‐III", "z6-iii"), ("plain ascii", "plain ascii"),
])
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def _index_tokens(text: str) -> set[str]:
    return set(tokens(index_text(text)))


def _query_tokens(text: str) -> list[str]:
    return tokens(fold_query(text))


@pytest.mark.parametrize("written,typed", [
    ("Nikon Z6III", "Z6III"), ("Nikon Z6III", "Z6 III"), ("Nikon Z6III", "Z6-III"),
    ("Nikon Z6 III", "Z6III"), ("Nikon Z6 III", "z6-iii"), ("Nikon Z6-III", "Z6 III"),
    ("Nikon Z6‐III", "Z6III"), ("Nikon Z6III", "Z6"), ("Nikon Z6III", "III"),
    ("a 35mm lens", "35 mm"), ("a 35 mm lens", "35mm"), ("a 35mm lens", "35"),
    ("a 35 mm lens", "mm"), ("shoots 4K video", "4 K"), ("at 120 fps", "120fps"),
    ("Canon EOS-R5", "EOS R5"), ("Canon EOS-R5", "R5"),
    ("Fujifilm X-T5", "XT5"), ("Fujifilm X-T5", "X-T5"), ("Fujifilm X100 V", "X100V"),
    ("Fujifilm X100V", "X100 V"), ("Panasonic L² Technology", "L2"),
    ("Panasonic L2 Technology", "L²"), ("Leica in Köln", "koln"), ("Leica in Koln", "Köln"),
    ("Nikon’s plan", "nikon's"), ("Nikon's plan", "Nikon’s"), ("ﬁrmware", "firmware"),
    ("the 24-70mm f/2.8", "24-70mm"),
])
def test_spellings_meet(written: str, typed: str) -> None:
    have = _index_tokens(written)
    want = _query_tokens(typed)
    assert want and all(t in have for t in want), (index_text(written), want)


def test_known_gap_letters_then_model_with_space() -> None:
    # "EOS R5" (space) is two index words; typing "eosr5" does not find it. The query
    # parser covers the hyphenated spelling ("EOS-R5" searches both; see test_search_query).
    assert "eosr5" not in _index_tokens("Canon EOS R5")


def test_phrases_keep_positions() -> None:
    # The joined form sits where the words were; extra forms go after the text.
    text = index_text("The new Nikon Z6 III review is here")
    first_line = text.split("\n")[0]
    assert "nikon z6iii review" in first_line


def test_ordinary_words_are_not_joined() -> None:
    assert index_text("full-frame sensor in 2024 and beyond") == \
        "full-frame sensor in 2024 and beyond"
    assert fold_query("mark ii") == "mark ii"
    assert fold_query("2024 in") == "2024 in"


def test_empty_and_none() -> None:
    assert index_text("") == ""
    assert index_text(None) == ""


@pytest.mark.parametrize("text,terms,marked", [
    ("The Nikon Z6 III is here", ("z6iii",), "The Nikon [Z6 III] is here"),
    ("Z6-III and Z6III", ("z6iii",), "[Z6-III] and [Z6III]"),
    ("a 35 mm lens", ("35mm",), "a [35 mm] lens"),
    ("Panasonic’s L² Technology", ("l2 technology",), "Panasonic’s [L² Technology]"),
    ("Leica in KÖLN", ("koln", "leic*"), "[Leica] in [KÖLN]"),
    ("can cannot", ("can",), "[can] cannot"),
    ("nothing here", ("sony",), "nothing here"),
    ("ﬁlm ﬁrst", ("film",), "[ﬁlm] ﬁrst"),
])
def test_highlight(text: str, terms: tuple[str, ...], marked: str) -> None:
    assert mark(text, terms) == marked


def test_highlight_spans_merge_and_sort() -> None:
    assert spans("Leica Leica", ("leica", "lei*")) == [(0, 5), (6, 11)]
    assert spans("", ("x",)) == []
    assert spans("text", ()) == []
