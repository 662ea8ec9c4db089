"""User search text -> a valid FTS5 MATCH expression.

What people type works without knowing FTS5:

- plain words are all required (implicit AND); ``Z6 III`` / ``35 mm`` are folded and joined
  exactly as the index folds them (see ``normalize``);
- ``"phrases"`` (also typographic quotes ``“L² Technology”``), a ``*`` at the end of a word or
  phrase for a prefix (``leic*``);
- ``AND`` / ``OR`` / ``NOT`` in capitals (lower-case ``and``/``or``/``not`` are words), ``-word``
  or ``-"a phrase"`` to exclude; parentheses when they balance;
- ``title:word``, ``title:"a phrase"``, ``body:`` (or ``text:``) to search one field.

Anything FTS5 would reject is read as plain words instead: an unbalanced quote is dropped,
unbalanced parentheses are ignored, an operator with nothing on one side is ignored, a lone
``-`` or ``*`` is ignored, other ``word:word`` is two words. ``QueryError`` (one line) is
raised only when nothing searchable is left (no words, or only excluded ones). Every term
is emitted as an FTS5 string, so the expression is always valid syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aggregator.errors import QueryError
from aggregator.search.normalize import QUOTE_CHARS, fold, fold_query, tokens

__all__ = ["ParsedQuery", "parse_query", "MAX_TERMS", "MAX_DEPTH"]

MAX_TERMS = 64
MAX_DEPTH = 10
COLUMNS = {"title": "title", "body": "body", "text": "body"}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_COLUMN = re.compile(r"^(title|body|text):(.*)$", re.IGNORECASE | re.DOTALL)
_QUOTES = str.maketrans({c: '"' for c in QUOTE_CHARS})


@dataclass(frozen=True)
class ParsedQuery:
    fts: str  # an FTS5 MATCH expression (always valid syntax)
    terms: tuple[str, ...]  # folded positive words/phrases for highlighting ("leic*" = prefix)


# -- lexing -------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # word, phrase, op, lparen, rparen
    text: str = ""
    neg: bool = False
    prefix: bool = False
    column: str | None = None
    glued: bool = False  # directly follows the previous plain word (only whitespace between)


def _lex(text: str) -> list[_Tok]:
    text = _CONTROL.sub(" ", text).translate(_QUOTES)
    out: list[_Tok] = []
    i, n = 0, len(text)
    pending_neg = False
    pending_col: str | None = None
    while i < n:
        ch = text[i]
        if ch.isspace():
            pending_neg, pending_col = False, None
            i += 1
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:  # unbalanced: the quote goes, the rest is plain words
                text = text[:i] + " " + text[i + 1:]
                continue
            tok = _Tok("phrase", text[i + 1:end], neg=pending_neg, column=pending_col)
            i = end + 1
            if i < n and text[i] == "*":
                tok.prefix = True
                while i < n and text[i] == "*":
                    i += 1
            out.append(tok)
            pending_neg, pending_col = False, None
            continue
        if ch in "()":
            out.append(_Tok("lparen" if ch == "(" else "rparen", neg=pending_neg and ch == "("))
            pending_neg, pending_col = False, None
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in '"()':
            j += 1
        word = text[i:j]
        i = j
        if word in ("AND", "OR", "NOT") and not pending_neg and pending_col is None:
            out.append(_Tok("op", word))
            continue
        if word.startswith(("-", "+")) and not pending_neg and pending_col is None:
            pending_neg = word[0] == "-"
            word = word.lstrip("-+")
        m = _COLUMN.match(word)
        if m and pending_col is None:
            pending_col = COLUMNS[m.group(1).lower()]
            word = m.group(2)
        if not word:
            continue  # "-" or "title:" before a phrase/group (or alone: ignored)
        prefix = word.endswith("*")
        word = word.rstrip("*").replace("*", " ")
        if word:
            out.append(_Tok("word", word, neg=pending_neg, prefix=prefix, column=pending_col))
        pending_neg, pending_col = False, None
    return out


def _balance(toks: list[_Tok]) -> list[_Tok]:
    depth = 0
    deepest = 0
    for t in toks:
        if t.kind == "lparen":
            depth += 1
            deepest = max(deepest, depth)
        elif t.kind == "rparen":
            depth -= 1
            if depth < 0:
                break
    if depth != 0 or deepest > MAX_DEPTH:
        return [t for t in toks if t.kind not in ("lparen", "rparen")]
    return toks


# -- parsing ------------------------------------------------------------------------------
@dataclass
class _Item:
    neg: bool
    term: _Tok | None = None
    words: list[str] = field(default_factory=list)  # a run of plain words
    group: list[list[_Item]] | None = None  # OR of AND-lists


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def parse_or(self) -> list[list[_Item]]:
        alts = [self.parse_and()]
        while (t := self.peek()) is not None and t.kind == "op" and t.text == "OR":
            self.pos += 1
            alts.append(self.parse_and())
        return [a for a in alts if a]

    def parse_and(self) -> list[_Item]:
        items: list[_Item] = []
        neg_next = False
        plain_ok = False  # the last item is a plain-word run the next word may join
        while (t := self.peek()) is not None:
            if t.kind == "rparen" or (t.kind == "op" and t.text == "OR"):
                break
            self.pos += 1
            if t.kind == "op":
                plain_ok = False
                if t.text == "NOT":
                    neg_next = True
                continue
            neg = neg_next or t.neg
            neg_next = False
            if t.kind == "lparen":
                group = self.parse_or()
                nt = self.peek()
                if nt is not None and nt.kind == "rparen":
                    self.pos += 1
                if group:
                    items.append(_Item(neg, group=group))
                plain_ok = False
                continue
            if t.kind == "word" and not neg and not t.prefix and t.column is None:
                if plain_ok:
                    items[-1].words.append(t.text)
                else:
                    items.append(_Item(False, words=[t.text]))
                plain_ok = True
                continue
            items.append(_Item(neg, term=t))
            plain_ok = False
        return items


# -- emitting -----------------------------------------------------------------------------
class _Emitter:
    def __init__(self) -> None:
        self.terms: list[str] = []
        self.count = 0

    def string(self, folded: str, *, prefix: bool, column: str | None, positive: bool) -> str:
        if not tokens(folded):
            return ""
        self.count += 1
        if self.count > MAX_TERMS:
            raise QueryError(f"query too long: at most {MAX_TERMS} words and phrases")
        folded = " ".join(folded.split())
        if positive:
            self.terms.append(folded + ("*" if prefix else ""))
        s = '"' + folded.replace('"', '""') + '"' + (" *" if prefix else "")
        return f"{column} : {s}" if column else s

    def either(self, joined: str, raw: str, *, prefix: bool, column: str | None,
               positive: bool) -> str:
        """``joined`` (as the index folds it), or, for a hyphenated word the index may hold
        as separate words ("EOS-R5" vs "EOS R5"), either spelling."""
        first = self.string(joined, prefix=prefix, column=column, positive=positive)
        split = fold(raw)
        if not first or "-" not in split or tokens(split) == tokens(joined):
            return first
        second = self.string(split, prefix=prefix, column=column, positive=False)
        return f"({first} OR {second})" if second else first

    def item(self, it: _Item, positive: bool) -> list[str]:
        if it.group is not None:
            expr = self.alts(it.group, positive)
            return [expr] if expr else []
        if it.term is not None:
            t = it.term
            s = self.either(fold_query(t.text), t.text, prefix=t.prefix, column=t.column,
                            positive=positive)
            return [s] if s else []
        out = []
        hyphenated = {fold_query(w): w for w in it.words if "-" in fold(w)}
        for piece in fold_query(" ".join(it.words)).split():
            s = self.either(piece, hyphenated.get(piece, piece), prefix=False, column=None,
                            positive=positive)
            if s:
                out.append(s)
        return out

    def conj(self, items: list[_Item], positive: bool) -> str:
        pos: list[str] = []
        neg: list[str] = []
        for it in items:
            if it.neg:
                neg.extend(self.item(it, False))
            else:
                pos.extend(self.item(it, positive))
        if not pos:
            return ""
        expr = pos[0] if len(pos) == 1 else "(" + " AND ".join(pos) + ")"
        if neg:
            expr = f"({expr} NOT " + (neg[0] if len(neg) == 1 else
                                      "(" + " OR ".join(neg) + ")") + ")"
        return expr

    def alts(self, alts: list[list[_Item]], positive: bool) -> str:
        parts = [p for p in (self.conj(a, positive) for a in alts) if p]
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def parse_query(user_text: str) -> ParsedQuery:
    """Parse what a reader typed. Raises QueryError only when nothing searchable is left."""
    shown = " ".join(user_text.split())
    if len(shown) > 60:
        shown = shown[:57] + "..."
    toks = _balance(_lex(user_text))
    tree = _Parser(toks).parse_or()
    emitter = _Emitter()
    expr = emitter.alts(tree, True)
    if not expr:
        if any(t.kind in ("word", "phrase") and tokens(fold_query(t.text)) for t in toks):
            raise QueryError(
                f"nothing to search for in {shown!r}: every word is excluded "
                "(NOT/-); add a word to look for"
            )
        raise QueryError(
            f"nothing to search for in {shown!r}: no words, only punctuation or operators"
        )
    return ParsedQuery(fts=expr, terms=tuple(dict.fromkeys(emitter.terms)))
