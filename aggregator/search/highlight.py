"""Find the places in original text that match query terms, for terminal highlighting.

Pure: ``spans(text, terms)`` gives (start, end) offsets into ``text``; ``mark(text, terms,
before, after)`` wraps them (e.g. ANSI codes, or "[" "]"). Terms are the folded ones from
``ParsedQuery.terms`` ("leic*" = prefix, "l2 technology" = phrase). Matching folds the text the
same way the index does (case, accents, NFKC: "L²" matches "l2", "Köln" matches "koln"), and
a term with a digit also matches with separators at any point ("z6iii" marks "Z6 III" and
"Z6-III", "35mm" marks "35 mm").
"""

from __future__ import annotations

import re
from functools import lru_cache

from aggregator.search.normalize import fold

__all__ = ["spans", "mark"]

_SEP = r"[\W_]+"
_OPT_SEP = r"[\s\-]?"


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded char by char, and for each folded char the index of its source char."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = ch.lower() if ch.isascii() else fold(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str] | None:
    prefix = term.endswith("*")
    words = re.findall(r"[^\W_]+", term.rstrip("*"))
    if not words:
        return None
    parts = []
    for w in words:
        if any(c.isdigit() for c in w):
            parts.append(_OPT_SEP.join(re.escape(c) for c in w))
        else:
            parts.append(re.escape(w))
    body = _SEP.join(parts)
    tail = r"[^\W_]*" if prefix else r"(?![^\W_])"
    return re.compile(r"(?<![^\W_])" + body + tail)


def spans(text: str, terms: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) offsets in ``text`` matching any of ``terms``."""
    if not text or not terms:
        return []
    folded, where = _folded_with_map(text)
    found: list[tuple[int, int]] = []
    for term in terms:
        pat = _pattern(term)
        if pat is None:
            continue
        for m in pat.finditer(folded):
            if m.end() > m.start():
                found.append((where[m.start()], where[m.end() - 1] + 1))
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def mark(text: str, terms: tuple[str, ...] | list[str], before: str = "[",
         after: str = "]") -> str:
    """``text`` with every match wrapped in ``before``/``after``."""
    out = []
    last = 0
    for s, e in spans(text, terms):
        out.append(text[last:s])
        out.append(before + text[s:e] + after)
        last = e
    out.append(text[last:])
    return "".join(out)
