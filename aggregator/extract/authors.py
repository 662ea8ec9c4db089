"""Author names from byline strings: no "By", no dates, no handles, split on "and" / commas."""

from __future__ import annotations

import re

_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|published|reported|text|story|words|photos?)\s+)?"
    r"(?:by|von|par|por|door|di|da|de|author:?|authors:?|autor(?:in)?:?|text:?|written by)"
    r"[\s:]+", re.I)
_HANDLE = re.compile(r"\s*\(?@\w{1,30}\)?")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_URLISH = re.compile(r"https?://\S+|www\.\S+")
_SPLIT = re.compile(r"\s*(?:,|;|\s&\s|\sand\s|\sund\s|\set\s|\sy\s|\||/|\n| · | • )\s*", re.I)
_TRAILING = re.compile(
    r"(?:\s*[,|•·–—-]\s*|\s+)(?:updated|published|posted|on|am|le|vom|last updated|"
    r"edited by|photos? by|illustrations? by|additional reporting|"
    r"\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,4})\b.*$", re.I)
# "A (avec B et C)", "A (with B)": the co-authors in parentheses are names too
_WITH = re.compile(r"\s*\(\s*(?:avec|with|mit|con|com)\s+([^()]*)\)", re.I)
_INNER_BY = re.compile(r"^.*?\s(?:by|von|par|por)\s+(?=\S)", re.I)
_ROLE_SUFFIX = re.compile(
    r"\s*[,|–—-]\s*(?:staff|senior|contributing|editor|reporter|correspondent|writer|"
    r"photographer|columnist|redakteur|chief|associate|deputy|managing|news|tech|freelance"
    r").*$", re.I)
_NOT_NAME = re.compile(
    r"^(?:by|and|the|staff|admin|administrator|editor|editors|redaktion|team|guest|anonymous|"
    r"unknown|author|none|null|share|follow|more|view|posts?|articles?|contributors?|"
    r"about|email|twitter|facebook|home|news|read more|see all|last|updated|last updated|"
    r"m\.?a|m\.?s|m\.?sc|ph\.?d|m\.?d|mba|b\.?a|b\.?sc|r\.?n|m\.?p\.?h)\.?$",
    re.I)
_DIGITS = re.compile(r"\d")
_ROLE_WORDS = frozenset({
    "staff", "senior", "contributing", "editor", "editors", "reporter", "correspondent",
    "writer", "photographer", "columnist", "chief", "associate", "deputy", "managing", "news",
    "tech", "freelance", "contributor", "journalist", "redakteur", "redakteurin", "autor",
    "autorin", "editorial", "desk", "team", "video", "photo", "photos",
})


def clean_author(raw: str) -> str | None:
    """One tidy name from one byline fragment, or None when nothing name-like is left."""
    text = " ".join(raw.split())
    text = _URLISH.sub("", text)
    text = _EMAIL.sub("", text)
    text = _HANDLE.sub("", text)
    for _ in range(2):
        text = _PREFIX.sub("", text)
    inner = _INNER_BY.search(text)
    if inner:  # "Tech Industry by Jane Doe": a section label before the byline
        text = text[inner.end():]
    text = _TRAILING.sub("", text)
    text = _ROLE_SUFFIX.sub("", text)
    text = text.strip(" \t,;:|-–—·•()[]\"'")
    if not text or _DIGITS.search(text) or _NOT_NAME.match(text):
        return None
    words = text.split()
    if all(w.lower().strip(".").removesuffix("s") in _ROLE_WORDS
           or w.lower().strip(".") in _ROLE_WORDS for w in words):
        return None
    if len(words) > 5 or len(text) > 60:
        return None
    if not any(ch.isalpha() for ch in text):
        return None
    if text.isupper() and len(words) <= 4 and not (len(words) == 1 and len(text) <= 4):
        text = text.title()  # "JOHN SMITH" -> "John Smith"; an agency ("AFP", "DPA") stays
    return text


def split_authors(raw: str) -> list[str]:
    """"A and B", "A, B & C", "By A | Staff" -> list of names."""
    text = _EMAIL.sub(" ", _URLISH.sub(" ", " ".join(raw.split())))
    text = _WITH.sub(r", \1", text)
    text = _PREFIX.sub("", text)
    text = _TRAILING.sub("", text)
    names: list[str] = []
    for part in _SPLIT.split(text):
        name = clean_author(part)
        if name and name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def clean_authors(values: list[str], *, site_name: str | None = None) -> tuple[str, ...]:
    """Names from several byline values, deduplicated, site name left out."""
    out: list[str] = []
    seen: set[str] = set()
    site = (site_name or "").strip().lower()
    for value in values:
        for name in split_authors(value):
            key = name.lower()
            if key in seen or (site and key == site):
                continue
            seen.add(key)
            out.append(name)
    return drop_extended(out)


def drop_extended(names: list[str]) -> tuple[str, ...]:
    """The names without those that are another of the names plus a label."""
    return tuple(n for n in names if not any(_extends(n, other) for other in names))


def _extends(name: str, other: str) -> bool:
    """"Ben Silverman Games Editor" extends "Ben Silverman": a label glued to a name that
    is there on its own too."""
    if len(other) >= len(name):
        return False
    a, b = name.lower(), other.lower()
    return a.startswith(b + " ") or a.endswith(" " + b)
