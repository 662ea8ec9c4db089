"""Stories: articles about the same event share a story, even when their texts differ.

Pure. ``features_of(title, text, published, attributions)`` turns an article into
``ArticleFeatures``: title terms, named entities (capitalised names such as "Kestrel Optics",
brands, and lens names such as "Lumen 85mm" however the space is written), product model
codes ("Z6III", "X-T5" -> "XT5", "EOS R5 Mark II" -> "R5", "MK2"), cited press-release URLs,
the published time and the body's MinHash signature.
``entity_keys(features)`` lists the strings the store indexes per story (``m:`` model codes,
``p:`` press-release URLs, ``e:`` entities) so candidate stories are found by indexed lookups,
never by a scan. ``assign_story(features, candidates, settings)`` scores each candidate story
and returns a ``StoryDecision``: join the best one, or start a new story.

The score (weights and threshold in ``DedupSettings``) adds, for a candidate inside the time
window (published within ``window_days`` of the story's first article):
- model_weight  x  shared model codes / the smaller set of codes (0 when either side names
  none); when both sides name models and none is shared, ``model_conflict_penalty`` is
  subtracted instead: the same companies with different products are different events;
- title_weight  x  best Jaccard of title terms against the story's titles;
- entity_weight x  shared names, a multi-word name counting 1 and a single word 0.5, up to
  ``entity_saturation`` (a name also matches by its last two words);
- body_weight   x  best body similarity against the story's signatures;
- press_release_bonus when both cite the same press-release URL.
A near-duplicate body (similarity >= ``near_duplicate``) always joins. Outside the window a
candidate is never joined: an alliance announced in May and a camera from it a year later
are different stories even when every name matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from aggregator.dedup.fingerprint import (
    DEFAULT_SETTINGS,
    DedupSettings,
    Signature,
    content_hash_of_tokens,
    same_values,
    signature_of_tokens,
    tokens,
)
from aggregator.dedup.urls import DEFAULT_TRACKING_PARAMS, canonical_url
from aggregator.models import Attribution

__all__ = [
    "ArticleFeatures",
    "StoryCandidate",
    "StoryDecision",
    "assign_story",
    "entity_keys",
    "extract_entities",
    "extract_models",
    "features_of",
    "shared_entity_weight",
    "title_terms",
]



def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _wordset("""
a an the and or but nor of in on at to for from by with without about into onto over under
as is are was were be been being has have had do does did will would can could may might must
shall should it its it's this that these those there their they them he she his her we our you
your i me my not no yes so than then too very just also more most less new now up out off
after before while when where which who whom whose what why how all any each every both few
some such only own same other again further once here s t says said say via per vs
der die das den dem des ein eine einen einer und oder mit von zu im in ist sind für auf aus
bei nach über neue neuen neues neuer le la les un une des du de et ou avec pour sur dans par
au aux est sont nouveau nouvelle
""")

# Capitalised words that are not names (sentence openers, months, days, common acronyms).
_NOT_NAMES = _wordset("""
the a an this that these those it its in on at for from by with as and but or if when while
after before during since until today yesterday tomorrow however meanwhile also according
we our you your they their he she his her i my there here what why how who where which
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december jan feb mar apr jun jul aug sep sept
oct nov dec update updated editor note photo image read more source via new all
ai af ae mf evf lcd oled usb hdmi iso raw jpeg heif ceo cfo cto coo vp pr uk us usa eu un
led sd cfexpress wi fi wifi gps nd uv hdr api faq pdf ibis ois fps mp mm k
der die das ein eine und mit von für auf neue le la les un une et avec pour sur
""")

_UNIT = re.compile(
    r"^\d+(?:\.\d+)?(?:mp|mm|cm|m|km|k|p|i|fps|gb|tb|mb|kb|mah|wh|w|kg|g|mg|x|s|ms|h|min|mbps|"
    r"gbps|bit|bits|nm|in|ev|st|nd|rd|th|am|pm|hz|khz|mhz|ghz|v|mph|db|eur|usd|gbp|yen|jpy|"
    r"ch|d|k60p|k30p|k120p)$"
)
_F_NUMBER = re.compile(r"^[ft]\d+(?:\.\d+)?$")
_QUARTER = re.compile(r"^(?:q[1-4]|h[12]|fy\d{2,4}|cy\d{2,4})$")
_ROMAN = frozenset({"II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"})
_WORD = re.compile(r"[^\W_](?:[\w'’&.-]*[^\W_])?")
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    """Lower case without diacritics ("Müller" -> "muller")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# "85 mm" and "85mm" are one term, and so are "f/1,4" and "f/1.4" (a decimal comma).
_NUMBER_UNIT = re.compile(r"(\d)[^\S\n]+(mm|mp|fps|cm|gb|tb)\b", re.I)
_DECIMAL_COMMA = re.compile(r"(\d),(\d)")


@lru_cache(maxsize=8192)
def title_terms(title: str) -> frozenset[str]:
    """Content words of a title, folded (no stopwords, no one-letter words); a number and
    its unit are one word, and a decimal comma is a point."""
    if any(c.isdigit() for c in title):
        title = _DECIMAL_COMMA.sub(r"\1.\2", _NUMBER_UNIT.sub(r"\1\2", title))
    return frozenset(
        f for f in (_fold(t) for t in tokens(title)) if len(f) > 1 and f not in _STOPWORDS
    )


# A lens named by its line and focal length: "Lumen 85mm", "Lumen 85 mm", "Art 24-70mm".
_LENS = re.compile(r"(?<![\w.’'-])([A-ZÀ-ÖØ-Þ][\w’'-]*)[^\S\n]+(\d{1,3}(?:[-–]\d{1,3})?)"
                   r"[^\S\n]?mm\b")
# What every _LENS match holds (a digit, maybe a space, "mm"), with the literal first so the
# scan jumps from "mm" to "mm".
_LENS_HINT = re.compile(r"mm\b(?:(?<=\dmm)|(?<=\d[^\S\n]mm))")


def lens_names(text: str) -> Counter[str]:
    """Lens names with their counts, folded: "Lumen 85 mm" -> "lumen 85mm". A name counts
    as a multi-word entity: two stories about one maker's 35mm and 85mm lenses share the
    maker's name but not the lens."""
    counts: Counter[str] = Counter()
    if not _LENS_HINT.search(text):
        return counts  # no focal length: no lens name (a cheap scan first)
    for match in _LENS.finditer(text):
        word = _fold(match.group(1))
        if word in _NOT_NAMES or word in _STOPWORDS:
            continue
        counts[f"{word} {match.group(2).replace('–', '-')}mm"] += 1
    return counts


# A word holding both a digit and a letter, optionally followed by "II".."X" or "Mark II".
_MODEL = re.compile(
    r"(?<![\w.’'-])(?=[\w.’'-]*\d)(?=[\w.’'-]*[^\W\d_])([^\W_](?:[\w.’'-]*[^\W_])?)"
    r"(?:[^\S\n]+(Mark[^\S\n]+|Mk[^\S\n]+)?(VIII|VII|III|II|IV|IX|VI|V|X)(?![\w-]))?"
)
_RUN = re.compile(r"[\w.’'-]+")
_RUN_PUNCT = frozenset("_.’'-")
_MEASURE = re.compile(r"^\d+(?:\.\d+)?[a-z]*\d*$")


def _model_code(token: str) -> str | None:
    bare = token.replace("-", "").replace("’", "").replace("'", "").replace(".", "")
    if not (2 <= len(bare) <= 12) or not bare.isalnum():
        return None
    low = token.lower().replace("-", "")
    if _UNIT.match(low) or _F_NUMBER.match(low) or _QUARTER.match(low):
        return None
    if _MEASURE.match(low) and not any(c.isupper() for c in token):
        return None  # "24mp", "4k60", "1080p"-like measurements written in lower case
    return bare.upper()


def extract_models(text: str) -> Counter[str]:
    """Product model codes with their counts: "Z6III", "X-T5" -> "XT5", "A7R V" -> "A7RV",
    "R5 Mark II" -> "R5MKII"."""
    counts: Counter[str] = Counter()
    digits = _ASCII_DIGIT if text.isascii() else _DIGIT  # the same matches, cheaper set
    if not digits.search(text):
        return counts
    # _MODEL can only match at the start of a run of [\w.’'-] holding a digit (its
    # lookbehind rejects every other position): jump from digit to digit instead of
    # trying the pattern at every character.
    model_at, run_at = _MODEL.match, _RUN.match
    end = 0
    for digit in digits.finditer(text):
        pos = digit.start()
        if pos < end:
            continue  # same run as before, or inside a matched "Mark II" suffix
        start = pos
        while start > 0:
            ch = text[start - 1]
            if ch.isalnum() or ch in _RUN_PUNCT:
                start -= 1
            else:
                break
        run = run_at(text, start)
        if start < end:  # the run began inside the previous match: no match in it
            end = run.end() if run else pos + 1
            continue
        end = run.end() if run else pos + 1
        match = model_at(text, start)
        if match is None:
            continue
        end = max(end, match.end())
        code = _model_code(match.group(1))
        if code is None:
            continue
        if match.group(3):
            code += ("MK" if match.group(2) else "") + match.group(3)
        counts[code] += 1
    return counts


# A run of capitalised words not preceded by a word character. The capital comes first and
# the look-behind after it (checking the character before the capital), so the regex engine
# can skip ahead to the next capital instead of trying the look-behind at every position.
_NAME_RUN = re.compile(
    r"[A-ZÀ-ÖØ-Þ](?<![\w'’&.-].)[\w'’&.-]*(?:[^\S\n]+[A-ZÀ-ÖØ-Þ][\w'’&.-]*)*"
)
_SPACE = re.compile(r"\s")
_DIGIT = re.compile(r"\d")
_ASCII_DIGIT = re.compile(r"[0-9]")  # \d on ASCII text
_OPENER_BEFORE = frozenset(".!?:;\"“„«\n")


@lru_cache(maxsize=65536)
def _single_name(group: str) -> str | None:
    """For a one-word run: its folded name, or "" when it is no name; None for a run of
    several words."""
    if _SPACE.search(group):
        return None
    word = group.rstrip(".:")
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) < 2 or word in _ROMAN or _DIGIT.search(word):
        return ""
    folded = _fold(word)
    return "" if folded in _NOT_NAMES else folded


def _name_counts(text: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(multi-word names, single names inside sentences, single names opening sentences)."""
    multi: Counter[str] = Counter()
    single: Counter[str] = Counter()
    opener: Counter[str] = Counter()
    buckets = (multi, single, opener)
    for match in _NAME_RUN.finditer(text):
        start = match.start()
        before = text[max(0, start - 8):start].rstrip(" \t")
        # does this word open a sentence?
        opens = (start <= 8 and not before) or (bool(before) and before[-1] in _OPENER_BEFORE)
        group = match.group()
        folded = _single_name(group)
        if folded is not None:  # one word: the common case, kept fast
            if folded:
                (opener if opens else single)[folded] += 1
            continue
        for bucket, name in _run_names(group, opens):
            buckets[bucket][name] += 1
    return multi, single, opener


@lru_cache(maxsize=65536)
def _run_names(group: str, opens: bool) -> tuple[tuple[int, str], ...]:
    """The names in a run of several capitalised words, as (bucket, name) pairs: bucket 0
    for a multi-word name, 1 for a single name inside a sentence, 2 for a sentence opener.
    ``opens``: the run's first word opens a sentence."""
    out: list[tuple[int, str]] = []

    def flush(run: list[str], at_start: bool) -> None:
        if not run:
            return
        name = _fold(" ".join(run))
        if len(run) > 1:
            out.append((0, name))
        elif len(name) > 1:
            out.append((2 if at_start else 1, name))

    run: list[str] = []
    run_at_start = False
    for raw in group.split():
        ends = raw.endswith((".", ":"))
        word = raw.rstrip(".:")
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        folded = _fold(word)
        ok = (bool(word) and word not in _ROMAN and not _DIGIT.search(word)
              and not (folded in _NOT_NAMES and (not run or word.isupper())))
        if ok:
            if not run:
                run_at_start = opens
            run.append(word)
        else:
            flush(run, run_at_start)
            run = []
        if ends:
            flush(run, run_at_start)
            run = []
        opens = ends
    flush(run, run_at_start)
    return tuple(out)


def extract_entities(text: str) -> Counter[str]:
    """Capitalised names (folded), counted: runs of capitalised words ("Kestrel Optics",
    "Anna Lindqvist"); single words when named twice (sentence openers count only then)."""
    multi, single, opener = _name_counts(text)
    out: Counter[str] = Counter(multi)
    for name in single.keys() | opener.keys():
        total = single[name] + opener[name]
        if total >= 2:
            out[name] += total
    return out


def _is_title_case(title: str) -> bool:
    words = [w for w in _WORD.findall(title) if w.isalpha() and len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) > 0.7


@lru_cache(maxsize=65536)
def _entity_forms(name: str) -> tuple[str, ...]:
    """A name and, for names of three words or more, its last two words: "Sprecherin Lena
    Hofmann" and "Lena Hofmann" meet."""
    words = name.split()
    return (name, " ".join(words[-2:])) if len(words) > 2 else (name,)


def shared_entity_weight(mine: Iterable[str], theirs: Iterable[str]) -> float:
    """Sum over my entities found in theirs: 1 for a multi-word name, 0.5 for one word."""
    return _shared_weight(mine, {f for name in theirs for f in _entity_forms(name)})


@lru_cache(maxsize=1024)
def _form_set(theirs: frozenset[str]) -> frozenset[str]:
    return frozenset(f for name in theirs for f in _entity_forms(name))


def _shared_weight(mine: Iterable[str], forms: Set[str]) -> float:
    total = 0.0
    for name in mine:
        # a name's forms are itself and, for three words or more, its last two words
        if name in forms or ((alt := _entity_forms(name)) and len(alt) > 1
                             and alt[1] in forms):
            total += 1.0 if " " in name else 0.5
    return total


@dataclass(frozen=True)
class ArticleFeatures:
    """What story assignment looks at. Build with ``features_of``."""

    title: str
    title_terms: frozenset[str]
    entities: frozenset[str]
    models: frozenset[str]
    press_urls: frozenset[str]
    published: datetime | None
    signature: Signature
    content_hash: str


def features_of(title: str, text: str, published: datetime | None,
                attributions: Iterable[Attribution] = (), *, url: str | None = None,
                settings: DedupSettings = DEFAULT_SETTINGS,
                tracking_params: Sequence[str] = DEFAULT_TRACKING_PARAMS,
                max_entities: int = 16) -> ArticleFeatures:
    """Features of one article. Models count when named in the title or twice in the body
    (a rival's camera mentioned once in passing does not make it that camera's story);
    entities are the multi-word names, single-word names seen twice or in the title, and the
    title's names (for a Title Case title, only names the body confirms), at most
    ``max_entities``, title names first.
    ``url`` (the article's canonical URL) is kept among the press-release URLs: a release
    page and the articles citing it then share a ``p:`` key."""
    words = tokens(text)
    head = text[:settings.entity_scan_chars]
    title_models = extract_models(title)
    body_models = extract_models(head)
    models = {m for m in title_models} | {m for m, n in body_models.items() if n >= 2}
    multi, single, opener = _name_counts(head)
    folded_title = f" {' '.join(_fold(t) for t in tokens(title))} "
    ranked: Counter[str] = Counter(multi)
    for name in single.keys() | opener.keys():
        total = single[name] + opener[name]
        if total >= 2 or f" {name} " in folded_title:
            ranked[name] += total
    if _is_title_case(title):
        for name in ranked:
            if f" {name} " in folded_title:
                ranked[name] += 100
    else:
        t_multi, t_single, t_opener = _name_counts(title)
        for name in t_multi.keys() | t_single.keys() | t_opener.keys():
            ranked[name] += 100
    ranked.update(lens_names(head))
    for name in lens_names(title):
        ranked[name] += 100
    entities = {e for e, _ in sorted(ranked.items(), key=lambda kv: (-kv[1], kv[0]))
                [:max_entities]}
    press = {
        canonical_url(a.url, tracking_params=tracking_params)
        for a in attributions if a.kind == "press_release" and a.url
    }
    if url:
        press.add(canonical_url(url, tracking_params=tracking_params))
    return ArticleFeatures(
        title=title,
        title_terms=title_terms(title),
        entities=frozenset(entities),
        models=frozenset(models),
        press_urls=frozenset(press),
        published=published,
        signature=signature_of_tokens(words, settings),
        content_hash=content_hash_of_tokens(words),
    )


def entity_keys(features: ArticleFeatures) -> list[str]:
    """Index keys for story candidate lookup: ``m:MODEL``, ``p:URL``, ``e:entity``."""
    keys = [f"m:{m}" for m in sorted(features.models)]
    keys += [f"p:{u}" for u in sorted(features.press_urls)]
    keys += [f"e:{e}" for e in sorted(features.entities)]
    return keys


@dataclass(frozen=True)
class StoryCandidate:
    """A stored story, as the store rebuilds it from its rows: the ``story_keys`` of its
    articles, its article titles (newest few are enough), its first article's time and
    (optionally) its original articles' signatures with their ids, so a near-duplicate that
    the band keys missed is still caught here."""

    story_id: int
    keys: frozenset[str]
    titles: tuple[str, ...] = ()
    first_seen: datetime | None = None
    signatures: tuple[Signature, ...] = ()
    article_ids: tuple[int, ...] = ()  # parallel to ``signatures`` (originals only)

    @classmethod
    def from_features(cls, story_id: int, members: Sequence[ArticleFeatures]
                      ) -> StoryCandidate:
        times = [m.published for m in members if m.published is not None]
        return cls(
            story_id=story_id,
            keys=frozenset(k for m in members for k in entity_keys(m)),
            titles=tuple(m.title for m in members),
            first_seen=min(times) if times else None,
            signatures=tuple(m.signature for m in members),
        )


@dataclass(frozen=True)
class StoryDecision:
    """``story_id`` to join, or None for a new story; ``score`` of the best candidate and
    the ``reasons`` that made it (for logs and ``aggregator story``); ``duplicate_of`` and
    ``similarity`` when the body nearly duplicates one of the candidate's articles (given
    ``article_ids``)."""

    story_id: int | None
    score: float
    reasons: tuple[str, ...] = field(default_factory=tuple)
    duplicate_of: int | None = None  # a near-duplicate found among the story's articles
    similarity: float | None = None

    @property
    def is_new(self) -> bool:
        return self.story_id is None


def _within(published: datetime | None, first_seen: datetime | None, days: float) -> bool:
    if published is None or first_seen is None:
        return True
    return abs(published - first_seen) <= timedelta(days=days)


@lru_cache(maxsize=1024)
def _split_keys(keys: frozenset[str]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A story's keys as (model codes, press-release URLs, entities), prefixes dropped."""
    models = frozenset(k[2:] for k in keys if k.startswith("m:"))
    press = frozenset(k[2:] for k in keys if k.startswith("p:"))
    entities = frozenset(k[2:] for k in keys if k.startswith("e:"))
    return models, press, entities


def _score(features: ArticleFeatures, cand: StoryCandidate, settings: DedupSettings
           ) -> tuple[float, list[str], tuple[int, float] | None]:
    reasons: list[str] = []
    score = 0.0
    body = 0.0
    near: tuple[float, int] | None = None
    mine = features.signature
    if mine.size >= settings.min_shingles:
        values, size = mine.values, mine.size
        perm = len(values)
        for index, sig in enumerate(cand.signatures):
            if sig.size < settings.min_shingles or len(sig.values) != perm:
                continue
            # similarity() and is_near_duplicate() from one Jaccard estimate
            same = same_values(mine, sig)
            if not same:
                continue
            j = same / perm
            small, large = min(size, sig.size), max(size, sig.size)
            value = min(1.0, j * (size + sig.size) / (1.0 + j) / small)
            body = max(body, value)
            if value < settings.near_duplicate or (
                    small / large < settings.trimmed_ratio
                    and j < settings.near_duplicate_jaccard):
                continue
            if near is None or value > near[0]:
                near = (value, index)
    if near is not None:
        article = cand.article_ids[near[1]] if near[1] < len(cand.article_ids) else None
        return 10.0, [f"near-duplicate body {near[0]:.2f}"], (
            (article, round(near[0], 4)) if article is not None else None)
    models, press, entities = _split_keys(cand.keys)
    if features.models and models:
        shared = features.models & models
        if shared:
            value = len(shared) / min(len(features.models), len(models))
            score += settings.model_weight * value
            reasons.append(f"models {','.join(sorted(shared))}")
        else:
            score -= settings.model_conflict_penalty
            reasons.append("different models")
    if features.press_urls & press:
        score += settings.press_release_bonus
        reasons.append("same press release")
    shared = _shared_weight(features.entities, _form_set(entities))
    if shared:
        value = min(1.0, shared / settings.entity_saturation)
        score += settings.entity_weight * value
        reasons.append(f"entities {shared:.1f}")
    best_title = 0.0
    for title in cand.titles:
        other = title_terms(title)
        union = features.title_terms | other
        if union:
            best_title = max(best_title, len(features.title_terms & other) / len(union))
    score += settings.title_weight * best_title
    if best_title:
        reasons.append(f"title {best_title:.2f}")
    score += settings.body_weight * body
    if body:
        reasons.append(f"body {body:.2f}")
    return score, reasons, None


def assign_story(features: ArticleFeatures, candidates: Sequence[StoryCandidate],
                 settings: DedupSettings = DEFAULT_SETTINGS) -> StoryDecision:
    """Join the best-scoring candidate story inside the time window whose score reaches
    ``settings.story_threshold``; otherwise a new story (``story_id=None``). Ties go to the
    lower (older) story id, so the result does not depend on the candidates' order."""
    best: StoryDecision | None = None
    for cand in candidates:
        if not _within(features.published, cand.first_seen, settings.window_days):
            continue
        score, reasons, dup = _score(features, cand, settings)
        if best is None or score > best.score or (
                score == best.score and best.story_id is not None
                and cand.story_id < best.story_id):
            best = StoryDecision(cand.story_id, score, tuple(reasons),
                                 dup[0] if dup else None, dup[1] if dup else None)
    if best is None:
        return StoryDecision(None, 0.0, ("no candidate in the time window",))
    if best.score < settings.story_threshold:
        return StoryDecision(None, best.score, ("best candidate below threshold", *best.reasons))
    return best
