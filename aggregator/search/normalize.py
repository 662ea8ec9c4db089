"""Text folding shared by the full-text index and the query parser.

The store writes ``index_text(title)`` and ``index_text(body)`` into ``articles_fts``; the query
parser folds each word and phrase with ``fold_query`` before quoting it for FTS5. Both run the
same steps, so whatever spelling a reader types meets the same tokens in the index:

1. NFKC (``L²`` -> ``L2``, ``ﬁ`` -> ``fi``, full-width forms), typographic apostrophes and
   quotes made plain, case folded, accents and a few letters without a decomposition
   (``ø``, ``ł``, ``æ``...) folded: ``Köln`` -> ``koln``.
2. Model names joined: a hyphen chain with a digit or a one-letter part (``Z6-III``,
   ``X-T5``, ``EOS-R5``) becomes one token (``z6iii``, ``xt5``, ``eosr5``); a model token
   followed by a Roman numeral (``Z6 III``, ``X100 V``) and a number followed by a unit
   (``35 mm``, ``4 K``, ``120 fps``) likewise (``z6iii``, ``x100v``, ``35mm``, ``4k``).
3. (index only) extra forms appended after the text, outside phrase positions: the parts of
   every joined token and the splits of every letter/digit token at its letter/digit
   boundaries (``z6iii`` -> ``z6``, ``iii``, ``z``, ``6iii``), so ``Z6`` or ``III`` alone
   still find ``Z6III``.

FTS5's ``unicode61 remove_diacritics 2`` tokenizer runs after this; it splits on everything
that is not a letter or digit.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold", "fold_name", "fold_query", "index_text", "model_extras", "QUOTE_CHARS",
           "NAME_FOLD_SQL"]

# The SQL function the store registers on its connections: NAME_FOLD_SQL(name) = fold_name.
NAME_FOLD_SQL = "agg_fold_name"

# Typographic forms of ' and " (the query parser reads the double ones as phrase quotes).
APOSTROPHES = "\u2018\u2019\u201a\u201b\u02bc\u2032\u00b4\u0060\uff07"
QUOTE_CHARS = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\uff02"
DASHES = "\u2010\u2011\u2012\u2013\u2212\ufe63\uff0d"  # hyphen-like (not em dash)

_PUNCT_TABLE = str.maketrans(
    {**{c: "'" for c in APOSTROPHES}, **{c: '"' for c in QUOTE_CHARS},
     **{c: "-" for c in DASHES}}
)
# Letters that NFKD does not split into base + accent.
_LETTER_TABLE = str.maketrans({
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
    "ħ": "h", "ŧ": "t", "ŀ": "l",
})
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

ROMAN = frozenset({"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"})
UNITS = frozenset({
    "mm", "cm", "m", "km", "nm", "um", "μm", "mp", "fps", "k", "p", "gb", "tb", "mb",
    "g", "kg", "ms", "s", "hz", "khz", "mhz", "ghz", "mah", "w", "wh", "x", "ev", "bit",
    "stops", "mbps", "gbps",
})

_W = r"[^\W_]"  # a letter or digit (what unicode61 keeps)
_L = r"[^\W\d_]"  # a letter
# Possessive quantifiers (Python 3.11) keep these linear on long text.
# A chain of letter/digit runs joined by single hyphens.
_HYPHEN_CHAIN = re.compile(r"\b\w++(?:-\w++)+")
# A token with a digit, whitespace, then a short letter run (candidate unit / numeral).
_SPACE_PAIR = re.compile(rf"\b({_L}*+\d\w*+)[ \t\n\r\f\v]++({_L}{{1,5}}+)\b")
# A token where a letter touches a digit.
_MIXED = re.compile(rf"\b(?:{_L}++\d|\d++{_L})\w*+")
_BOUNDARY = re.compile(rf"(?<=\d)(?={_L})|(?<={_L})(?=\d)")
_TOKEN = re.compile(rf"{_W}+")
# Digits and hyphens: where joining can happen (a charset first, so the scan is fast).
_HOT = re.compile(r"[\d-][\w-]*")
_PAIR_TAIL = re.compile(rf"[ \t\n\r\f\v]++{_L}{{1,5}}+\b")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=65536)
def _fold_run(run: str) -> str:
    text = unicodedata.normalize("NFKC", run).translate(_PUNCT_TABLE).casefold()
    if text.isascii():
        return text
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text).translate(_LETTER_TABLE)


def fold(text: str) -> str:
    """NFKC, plain quotes/apostrophes/hyphens, case and accents folded. No joining.

    ASCII is only lower-cased; each run of other characters is folded on its own (cached),
    which keeps this cheap on long, mostly-ASCII text."""
    text = text.lower()
    if text.isascii():
        return text
    return _NON_ASCII.sub(lambda m: _fold_run(m.group()), text)


def _join_segment(seg: str, extras: set[str] | None) -> str:
    def hyphen(m: re.Match[str]) -> str:
        parts = m.group(0).split("-")
        if any(any(c.isdigit() for c in p) for p in parts) or any(len(p) == 1 for p in parts):
            if extras is not None:
                extras.update(parts)
            return "".join(parts)
        return m.group(0)

    def pair(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        if right in UNITS or (right in ROMAN and not left.isdigit()):
            if extras is not None:
                extras.update((left, right))
            return left + right
        return m.group(0)

    if "-" in seg:
        seg = _HYPHEN_CHAIN.sub(hyphen, seg)
    return _SPACE_PAIR.sub(pair, seg)


def _join(text: str, extras: set[str] | None) -> str:
    """Join model names and number+unit pairs. Only the short segments around digits and
    hyphens are looked at (a fast scan finds them), so long prose costs little."""
    out: list[str] = []
    last = 0
    for m in _HOT.finditer(text):
        if m.start() < last:
            continue
        start = m.start()
        while start > last and (text[start - 1].isalnum() or text[start - 1] in "_-"):
            start -= 1
        end = m.end()
        tail = _PAIR_TAIL.match(text, end)
        if tail:
            end = tail.end()
        seg = text[start:end]
        joined = _join_segment(seg, extras)
        if extras is not None:
            for mixed in _MIXED.findall(joined):
                extras.update(model_extras(mixed))
        out.append(text[last:start])
        out.append(joined)
        last = end
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def model_extras(token: str) -> list[str]:
    """Splits of a letter/digit token at each letter/digit boundary: both sides of each."""
    if len(token) > 20:
        return []
    cuts = [m.start() for m in _BOUNDARY.finditer(token)][:4]
    out = []
    for c in cuts:
        out.append(token[:c])
        out.append(token[c:])
    return out


def fold_name(text: str | None) -> str:
    """A person's or outlet's name as the name filters compare it: folded like the index
    (case, accents, NFKC, typographic quotes) with whitespace runs made one space."""
    if not text:
        return ""
    return " ".join(fold(text).split())


def fold_query(text: str) -> str:
    """The folded, joined form of a query word, word run or phrase (no extras)."""
    return _join(fold(text), None)


def index_text(text: str | None) -> str:
    """What the store writes into an ``articles_fts`` column for ``text``."""
    if not text:
        return ""
    extras: set[str] = set()
    folded = _join(fold(text), extras)
    if not extras:
        return folded
    # Parts of joined tokens may themselves be mixed (eosr5 <- eos, r5).
    for part in list(extras):
        if _MIXED.fullmatch(part):
            extras.update(model_extras(part))
    extras.discard("")
    return folded + "\n" + " ".join(sorted(extras))


def tokens(text: str) -> list[str]:
    """The letter/digit runs of already folded text (roughly what unicode61 keeps)."""
    return _TOKEN.findall(text)
