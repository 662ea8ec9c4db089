"""The article body: score paragraph containers over the lxml tree (never mutating it), pick
the best one (plus siblings that carry article text), then walk it into text blocks, skipping
clutter. Also produces sanitized HTML of the same blocks."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

import nh3
from lxml import etree
from lxml.html import HtmlElement

from aggregator.extract import hints

_WS = re.compile(r"\s+")
_COMMAS = re.compile(r"[,،，、]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_INLINE_HTML = frozenset({"a", "em", "strong", "b", "i", "code", "sub", "sup", "u", "s",
                          "mark", "small", "q", "cite", "abbr", "del", "ins", "kbd"})
_ALLOWED_TAGS = {"p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre",
                 "code", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "a",
                 "em", "strong", "b", "i", "sub", "sup", "u", "s", "mark", "small", "q",
                 "cite", "abbr", "del", "ins", "kbd", "br", "dl", "dt", "dd", "figure", "img",
                 "figcaption"}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt"}, "td": {"colspan", "rowspan"},
                  "th": {"colspan", "rowspan"}}


def _tag(el: HtmlElement) -> str:
    tag = el.tag
    return tag if isinstance(tag, str) else ""  # the HTML parser gives lower-case names


def _class_id(el: HtmlElement) -> str:
    cls = el.get("class")
    ident = el.get("id")
    if cls and ident:
        return f"{cls} {ident}"
    return cls or ident or ""


_VERDICTS: dict[str, int] = {}


def _names_verdict(names: str) -> int:
    """0: no clutter words; 1: clutter words (unless it holds the page); 2: strong clutter."""
    verdict = _VERDICTS.get(names)
    if verdict is None:
        tokens = names[:400].split()
        verdict = 0
        # A token naming the story and one of its furniture parts ("entry-footer",
        # "article-meta", "comment-content") names that part: it protects nothing.
        parts = [t for t in tokens if hints.PART_NEGATIVE.search(t)]
        if any(hints.NEGATIVE.search(t) for t in tokens) and not any(
                hints.POSITIVE.search(t) for t in tokens
                if t not in parts and not hints.UTILITY_CLASS.match(t)):
            verdict = 2 if hints.STRONG_NEGATIVE.search(names) else 1
        if len(_VERDICTS) > 50_000:
            _VERDICTS.clear()
        _VERDICTS[names] = verdict
    return verdict


#: Paragraph credit (about characters of prose) an ``<article>`` with an ``<h1>`` needs before
#: clutter-named wrappers around it are read as layout (a story opened in a modal).
STORY_WRAPPER_CREDIT = 800.0


#: Tags that are clutter unless, left unclosed in a broken page, they hold most of its text.
_UNCLOSED_WRAPPERS = frozenset({"nav", "noscript", "header", "menu"})


_PHRASE_TAGS = frozenset({"span", "strong", "b", "em", "i", "font", "abbr", "small"})


def _in_sentence(el: HtmlElement) -> bool:
    """A short phrase inside a paragraph with text of its own on both sides or after it."""
    parent = el.getparent()
    if parent is None or _tag(parent) != "p":
        return False
    if _chars(el.text_content()) > 60:
        return False
    tail = _chars(el.tail or "")
    return tail >= 20


class Clutter:
    """Judges elements as clutter (memoized), from tag, role, visibility and class/id words."""

    def __init__(self, drop: Iterable[HtmlElement] = (), keep: Iterable[HtmlElement] = (),
                 raw_credit: dict[HtmlElement, float] | None = None):
        self._own: dict[HtmlElement, bool] = {}
        self.raw_credit = raw_credit or {}
        self.raw_total = max(self.raw_credit.values(), default=0.0)
        self._inside: dict[HtmlElement, bool] = {}
        self._wrappers: frozenset[HtmlElement] | None = None
        for el in drop:
            self._own[el] = True
        self._keep = set(keep)
        for el in self._keep:
            self._own[el] = False

    def own(self, el: HtmlElement) -> bool:
        """Is this element itself clutter (ignoring its ancestors)?"""
        try:
            return self._own[el]
        except KeyError:
            pass
        verdict = self._judge(el)
        self._own[el] = verdict
        return verdict

    def _judge(self, el: HtmlElement) -> bool:
        tag = _tag(el)
        if not tag:
            return True  # comments, processing instructions
        if tag == "aside" and self._holds_page(el) and el.find(".//article") is not None:
            return False  # a layout wrapper marked up as <aside>, holding the story
        if tag in _UNCLOSED_WRAPPERS and self._holds_page(el):
            return False  # an unclosed <nav>/<noscript> the parser wrapped round the page
        if tag in hints.SKIP_TAGS:
            parent = el.getparent()
            return not (tag == "footer" and parent is not None and parent.tag == "blockquote")
        if tag in ("body", "html", "main"):
            return False
        if tag == "form":  # clutter, unless the whole page is one form (ASP.NET)
            return not self._holds_page(el)
        if el.get("hidden") is not None or el.get("aria-hidden") == "true":
            return True
        style = el.get("style")
        if style and _HIDDEN_STYLE.search(style):
            return True
        role = el.get("role")
        if role and role.lower() in hints.NEGATIVE_ROLES and not self._holds_page(el):
            return True
        # A heading's id is an anchor made from its own words ("nav_the-results"), and a
        # phrase marked up inside a sentence ("<span class=dateline>KOBE –</span>") is part
        # of that sentence: neither is judged by its names unless they are strong clutter.
        heading = tag in hints.HEADING_TAGS
        names = (el.get("class") or "") if heading else _class_id(el)
        if names:
            verdict = _names_verdict(names)
            if verdict == 2:
                return True
            if verdict == 1:
                if tag in _PHRASE_TAGS and _in_sentence(el):
                    return False
                return not (self._holds_page(el) or el in self._story_wrappers(el))
        return False

    def _story_wrappers(self, el: HtmlElement) -> frozenset[HtmlElement]:
        """Ancestors of the page's one headlined ``<article>`` (an ``<h1>`` and article text in
        it): a story shown in a modal or an overlay panel, whose wrappers' class names say
        "modal" or "panel", is still the story."""
        if self._wrappers is None:
            root = el.getroottree().getroot()
            stories = [a for a in root.iter("article")
                       if self.raw_credit.get(a, 0.0) >= STORY_WRAPPER_CREDIT
                       and a.find(".//h1") is not None]
            self._wrappers = frozenset(stories[0].iterancestors()) if len(
                stories) == 1 else frozenset()
        return self._wrappers

    def _holds_page(self, el: HtmlElement) -> bool:
        """A layout wrapper whose class merely mentions a sidebar or nav: it holds most of the
        page's paragraph text, so it cannot be clutter."""
        if self.raw_total < 200:
            return False
        return self.raw_credit.get(el, 0.0) >= 0.5 * self.raw_total

    def inside(self, el: HtmlElement) -> bool:
        """Is the element, or any ancestor, clutter?"""
        chain: list[HtmlElement] = []
        node: HtmlElement | None = el
        verdict = False
        while node is not None:
            known = self._inside.get(node)
            if known is not None:
                verdict = known
                break
            chain.append(node)
            if self.own(node):
                verdict = True
                break
            node = node.getparent()
        for item in chain:
            self._inside[item] = verdict
        return verdict


@dataclass
class Block:
    kind: str  # p, h2.., li, blockquote, pre, table
    text: str
    html: str
    link_chars: int = 0
    share_chars: int = 0


@dataclass
class BodyResult:
    element: HtmlElement | None
    blocks: list[Block] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    @property
    def html(self) -> str:
        return sanitize("".join(_wrap(self.blocks)))


# --------------------------------------------------------------------------- scoring
#
# Every paragraph-like element with enough text and few links is "good text"; its weight is
# credited to all its ancestors (G). A container's score is G minus ALPHA times the rest of
# its text (T - G: menus, link lists, bylines, furniture). The best container is the smallest
# one that holds the article's paragraphs without dragging in much else.

#: Weight of non-paragraph text against paragraph text when choosing the container.
ALPHA = 1.0
#: Paragraphs shorter than this (characters) do not count as article text; longer ones count
#: with this much taken off, so that short lines (captions, notes) weigh little.
MIN_PARAGRAPH = 25
NEUTRAL = -1.0  # marker: text that neither counts for nor against a container
_NOT_TEXT = ("script", "style", "noscript", "template")


def _text_of(el: HtmlElement) -> str:
    return " ".join(el.text_content().split())


def _link_density(el: HtmlElement, text_len: int) -> float:
    """Share of the element's characters (not counting white space) inside links."""
    if text_len <= 0:
        return 1.0
    links = 0
    for a in el.iter("a"):
        links += _chars(a.text_content())
    return min(1.0, links / text_len)


def _own_text_len(el: HtmlElement) -> int:
    """Characters directly inside el or in its inline children (spans, emphasis, links),
    for text held in divs rather than paragraphs."""
    total = _chars(el.text or "")
    for child in el:
        tag = _tag(child)
        if tag in _INLINE_HTML or tag in ("span", "font"):
            total += _chars(child.text_content())
        total += _chars(child.tail or "")
    return total


def _chars(text: str) -> int:
    """Characters that are not white space (cheap: no regex, no split)."""
    return len(text) - text.count(" ") - text.count("\n") - text.count("\t") - text.count(
        "\r") - text.count("\xa0")


_PARAS = etree.XPath(
    "//p|//pre|//td|//blockquote|//li|//div[text()[normalize-space()] or span or font or b or "
    "strong or em or i]|//section[text()[normalize-space()]]|//article[text()[normalize-space()]]")


@dataclass
class Paragraph:
    el: HtmlElement
    weight: float  # article text it brings (0 for neutral text)
    neutral: float  # neutral characters (short list items, headings)


def paragraphs(root: HtmlElement) -> list[Paragraph]:
    """Every paragraph-like element with its weight; clutter is not judged here."""
    found: list[Paragraph] = [Paragraph(h, 0.0, float(_chars(h.text_content())))
                              for h in root.iter("h2", "h3", "h4", "h5", "h6")]
    for para in _PARAS(root):
        tag = _tag(para)
        if tag in ("div", "section", "article"):
            length = _own_text_len(para)
            if length < MIN_PARAGRAPH:
                continue
            found.append(Paragraph(para, float(length), 0.0))
            continue
        if tag in ("td", "li", "blockquote") and para.xpath(".//p|.//table|.//div|.//li"):
            continue  # a container, its own paragraphs count
        length = _chars(para.text_content())
        if length < MIN_PARAGRAPH:
            continue
        density = _link_density(para, length)
        if density > 0.5:
            continue
        if tag == "li" and length < 70:
            found.append(Paragraph(para, 0.0, float(length)))
        else:
            found.append(Paragraph(para, length * (1 - density) - MIN_PARAGRAPH, 0.0))
    return found


def credit_ancestors(paras: Sequence[Paragraph]
                     ) -> tuple[dict[HtmlElement, float], dict[HtmlElement, float]]:
    """Article text (G) and neutral text of every ancestor of the paragraphs."""
    depth: dict[HtmlElement, int] = {}
    for para in paras:
        chain = []
        node = para.el
        while node is not None and node not in depth:
            chain.append(node)
            node = node.getparent()
        base = depth[node] if node is not None else -1
        for item in reversed(chain):
            base += 1
            depth[item] = base
    credit: dict[HtmlElement, float] = dict.fromkeys(depth, 0.0)
    flat: dict[HtmlElement, float] = dict.fromkeys(depth, 0.0)
    for para in paras:
        credit[para.el] += para.weight
        flat[para.el] += para.neutral
    # Visit each node once, deepest first, pushing sums upwards.
    for node in sorted(depth, key=depth.__getitem__, reverse=True):
        parent = node.getparent()
        if parent is not None:
            credit[parent] += credit[node]
            flat[parent] += flat[node]
    return credit, flat


def good_text(root: HtmlElement, clutter: Clutter,
              paras: Sequence[Paragraph] | None = None
              ) -> tuple[dict[HtmlElement, float], dict[HtmlElement, float]]:
    """G and neutral text for every ancestor of a paragraph outside clutter."""
    if paras is None:
        paras = paragraphs(root)
    return credit_ancestors([p for p in paras if not clutter.inside(p.el)])


def _script_chars(root: HtmlElement) -> dict[HtmlElement, int]:
    """Characters of script/style text credited to every ancestor (text_content counts them)."""
    out: dict[HtmlElement, int] = {}
    for el in root.iter(*_NOT_TEXT):
        n = _chars(el.text_content())
        node = el.getparent()
        while node is not None:
            out[node] = out.get(node, 0) + n
            node = node.getparent()
    return out


@dataclass
class Scoring:
    """Article text (credit), neutral text and script text per element, and the scores."""

    credit: dict[HtmlElement, float]
    flat: dict[HtmlElement, float]
    scripts: dict[HtmlElement, int]
    scores: dict[HtmlElement, float] = field(default_factory=dict)

    def score(self, el: HtmlElement) -> float:
        g = self.credit.get(el, 0.0)
        total = _chars(el.text_content()) - self.scripts.get(el, 0)
        rest = max(0.0, total - g - self.flat.get(el, 0.0))
        return g - ALPHA * rest


def score_candidates(root: HtmlElement, clutter: Clutter,
                     paras: Sequence[Paragraph] | None = None) -> Scoring:
    credit, flat = good_text(root, clutter, paras)
    scoring = Scoring(credit, flat, _script_chars(root) if credit else {})
    best_g = max(credit.values(), default=0.0)
    if best_g <= 0:
        return scoring
    for el, g in credit.items():
        if g < 0.4 * best_g or _tag(el) in ("p", "pre", "li", "td", "blockquote", "html"):
            continue
        scoring.scores[el] = scoring.score(el)
    return scoring


def _siblings(top: HtmlElement, scoring: Scoring, clutter: Clutter) -> list[HtmlElement]:
    """The top container plus sibling containers that carry article text of their own (an
    article split by an ad or an image block)."""
    parent = top.getparent()
    if parent is None or _tag(parent) in ("body", "html"):
        return [top]
    top_g = scoring.credit.get(top, 0.0)
    chosen = []
    for sib in parent:
        if sib is top:
            chosen.append(sib)
            continue
        g = scoring.credit.get(sib, 0.0)
        if (g >= max(SIBLING_MIN, SIBLING_SHARE * top_g) and _tag(sib) not in ("p",)
                and not clutter.own(sib) and scoring.score(sib) > 0):
            chosen.append(sib)
    return chosen


def _widen(top: HtmlElement, scoring: Scoring, clutter: Clutter) -> HtmlElement:
    """Go up to an ancestor holding clearly more article text at a small cost in other text."""
    top_g = scoring.credit.get(top, 0.0)
    top_score = scoring.scores.get(top, scoring.score(top))
    node = top.getparent()
    for _ in range(2):
        if node is None or _tag(node) in ("body", "html") or clutter.own(node):
            break
        g = scoring.credit.get(node, 0.0)
        if g >= WIDEN_GAIN * top_g and scoring.score(node) >= WIDEN_KEEP * top_score:
            return node
        node = node.getparent()
    return top


#: Widening to an ancestor needs this much more article text, keeping this share of the score.
WIDEN_GAIN = 1.25
WIDEN_KEEP = 0.8

#: A sibling of the body container joins it with this much article text of its own.
SIBLING_MIN = 150.0
SIBLING_SHARE = 0.1


def _best(scores: dict[HtmlElement, float]) -> HtmlElement | None:
    """Highest score; among equal scores the deepest element (the tightest wrapper)."""
    if not scores:
        return None
    best = max(scores.values())
    tied = [el for el, score in scores.items() if score >= best - 1e-6]
    return max(tied, key=lambda el: sum(1 for _ in el.iterancestors()))


def _hinted_body(root: HtmlElement, clutter: Clutter) -> HtmlElement | None:
    """A container marked as the article body (itemprop=articleBody)."""
    for el in root.xpath('//*[@itemprop="articleBody" or @itemprop="articlebody"]'):
        if not clutter.inside(el):
            return el
    return None


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    node: HtmlElement | None = inner
    while node is not None:
        if node is outer:
            return True
        node = node.getparent()
    return False


def _title_anchored(root: HtmlElement, top: HtmlElement, scoring: Scoring,
                    title: str | None, clutter: Clutter) -> HtmlElement:
    """The headline anchors the story: when the best container lies away from the <h1>
    that carries the page title (a stream of teasers beside the article), a container
    holding that headline wins if it scores nearly as well."""
    want = _WS.sub(" ", title or "").strip().lower()
    if not want or TITLE_ANCHOR_SHARE <= 0:
        return top
    heads = [h for h in root.iter("h1")
             if _WS.sub(" ", h.text_content()).strip().lower() == want and not clutter.inside(h)]
    if len(heads) != 1 or _contains(top, heads[0]) or _contains(heads[0], top):
        return top
    # The headline's nearest container with real article text; the story is the best
    # container inside it (the headline's block itself, or the body beside the header).
    node = heads[0].getparent()
    for _ in range(TITLE_ANCHOR_LEVELS):
        if node is None or _contains(node, top) or _tag(node) in ("body", "html"):
            return top
        if scoring.credit.get(node, 0.0) >= MIN_ANCHORED:
            break
        node = node.getparent()
    else:
        return top
    best, best_score = top, TITLE_ANCHOR_SHARE * scoring.scores[top]
    for el in node.iter():
        if el in scoring.credit and scoring.credit[el] >= MIN_ANCHORED and _tag(el) not in (
                "p", "pre", "li", "td", "blockquote"):
            score = scoring.score(el)
            if score > best_score:
                best, best_score = el, score
    return best


#: A container holding the title's <h1> beats a better one elsewhere at this share of its score.
TITLE_ANCHOR_SHARE = 0.4
TITLE_ANCHOR_LEVELS = 4
#: ... and holds at least this much article text.
MIN_ANCHORED = 500.0


def choose_body(root: HtmlElement, clutter: Clutter,
                rule_body: Sequence[HtmlElement] = (),
                paras: Sequence[Paragraph] | None = None,
                title: str | None = None) -> list[HtmlElement]:
    """The element(s) holding the article, in document order."""
    if rule_body:
        return list(rule_body)
    scoring = score_candidates(root, clutter, paras)
    scores = scoring.scores
    top = _best(scores)
    if top is not None:
        top = _title_anchored(root, top, scoring, title, clutter)
    hinted = _hinted_body(root, clutter)
    if hinted is not None and (top is None or _contains(hinted, top) or (
            _contains(top, hinted) and scores.get(hinted, float("-inf")) >= 0.7 * scores[top])):
        lead = _lead_before(hinted, clutter)
        if lead is None:
            lead = _header_lead(root, hinted, title, clutter)
        return [lead, hinted] if lead is not None else [hinted]
    if top is None:
        body = root.find("body")
        return [body] if body is not None else [root]
    top = _widen(top, scoring, clutter)
    lead = _lead_before(top, clutter)
    if lead is None:
        lead = _header_lead(root, top, title, clutter)
    containers = _siblings(top, scoring, clutter)
    chosen = [lead, *containers] if lead is not None else containers
    if paras is not None:
        chosen = _stray_paragraphs(root, top, chosen, paras, clutter)
    return chosen


#: A paragraph outside the chosen container but inside the same <article>/<main> region
#: joins the body when it has this much text (characters, after the MIN_PARAGRAPH discount).
STRAY_MIN = 80.0
_REGION_TAGS = ("article", "main")


def _negative_up_to(el: HtmlElement, region: HtmlElement) -> bool:
    """Any clutter word on el or its ancestors below region, even beside an article word
    ("article-byline"): stray text must be plainly article text."""
    node: HtmlElement | None = el
    while node is not None and node is not region:
        names = _class_id(node)
        if names and any(hints.NEGATIVE.search(t) for t in names[:400].split()):
            return True
        node = node.getparent()
    return False


def _stray_paragraphs(root: HtmlElement, top: HtmlElement, chosen: list[HtmlElement],
                      paras: Sequence[Paragraph], clutter: Clutter) -> list[HtmlElement]:
    """Add substantial paragraphs that sit in the article region around the container
    (split layouts: text before/after an embedded block or a second column of the story)."""
    region = None
    node = top.getparent()
    for _ in range(4):
        if node is None or _tag(node) in ("body", "html"):
            break
        if _tag(node) in _REGION_TAGS:
            region = node
            break
        node = node.getparent()
    if region is None:
        return chosen
    extra = []
    for para in paras:
        if para.weight < STRAY_MIN or _tag(para.el) not in ("p", "blockquote", "pre"):
            continue
        el = para.el
        if not _contains(region, el) or any(_contains(c, el) or _contains(el, c)
                                            for c in chosen):
            continue
        if clutter.inside(el) or _negative_up_to(el, region):
            continue
        extra.append(el)
    if not extra:
        return chosen
    order = {el: i for i, el in enumerate(region.iter())}
    merged = [c for c in chosen if c not in order] + sorted(
        [c for c in chosen if c in order] + extra, key=order.__getitem__)
    return merged


def _lead_before(top: HtmlElement, clutter: Clutter) -> HtmlElement | None:
    """A standfirst / lead paragraph just before the body container: a previous sibling of
    the container or of one of its nearest ancestors (not beyond the <article>/<main> that
    holds it), or the lead inside such a sibling (the article's <header>)."""
    node: HtmlElement | None = top
    for _ in range(LEAD_LEVELS):
        if node is None or _tag(node) in ("body", "html"):
            return None
        prev = node.getprevious()
        steps = 0
        while prev is not None and steps < 4:
            steps += 1
            if isinstance(prev.tag, str) and (not clutter.own(prev) or _teaser_lead(prev)):
                found = _lead_in(prev, clutter)
                if found is not None:
                    return found
            prev = prev.getprevious()
        if _tag(node) in _REGION_TAGS:
            return None
        node = node.getparent()
    return None


def _header_lead(root: HtmlElement, top: HtmlElement, title: str | None,
                 clutter: Clutter) -> HtmlElement | None:
    """An unmarked standfirst: the first sentence-sized paragraph after the headline <h1>
    in the story's header block (the headline's ancestors that do not hold the body)."""
    want = _WS.sub(" ", title or "").strip().lower()
    if not want:
        return None
    heads = [h for h in root.iter("h1")
             if _WS.sub(" ", h.text_content()).strip().lower() == want]
    if len(heads) != 1 or _contains(top, heads[0]) or clutter.inside(heads[0]):
        return None
    head = heads[0]
    block = head
    for _ in range(HEADER_LEVELS):
        parent = block.getparent()
        if parent is None or _tag(parent) in ("body", "html"):
            return None
        if _contains(parent, top):
            break
        block = parent
    else:
        return None
    after = False
    for el in block.iter():
        if el is head:
            after = True
            continue
        if not after or _contains(head, el) or _tag(el) not in ("p", "h2", "div"):
            continue
        if _tag(el) == "div" and _own_text_len(el) < HEADER_LEAD_MIN:
            continue
        length = _chars(el.text_content())
        if length < HEADER_LEAD_MIN or length > LEAD_BLOCK_MAX or clutter.inside(el):
            continue
        if _link_density(el, length) < 0.3 and el.find(".//time") is None:
            return el
    return None


#: The headline's header block lies at most this many levels above the <h1>.
HEADER_LEVELS = 3
#: An unmarked standfirst has at least this many characters.
HEADER_LEAD_MIN = 80


#: How many levels above the body container a lead is looked for.
LEAD_LEVELS = 4


def _lead_in(el: HtmlElement, clutter: Clutter) -> HtmlElement | None:
    """el itself when its class marks a lead, else the first lead-marked element inside it
    (a header block holding headline, lead and byline)."""
    if _is_lead(el):
        return el
    if _chars(el.text_content()) > LEAD_BLOCK_MAX:
        return None  # a whole block of text, not a header
    for sub in el.iterdescendants():
        if isinstance(sub.tag, str) and _is_lead(sub) and (
                not clutter.inside(sub) or (_teaser_lead(sub) and not clutter.inside(
                    sub.getparent()))):
            return sub
    return None


def _teaser_lead(el: HtmlElement) -> bool:
    """Clutter only for a "teaser" word in its class, on an element shaped like a lead: a
    news system's name for the standfirst ("teaser-text", "article-teaser")."""
    if _tag(el) in hints.SKIP_TAGS or el.get("hidden") is not None or el.get(
            "aria-hidden") == "true" or el.get("role"):
        return False
    names = _class_id(el)
    return bool(names) and _names_verdict(names) == 1 and bool(
        hints.TEASER_LEAD.search(names)) and _is_lead(el)


#: A block holding more than this many characters is not searched for a lead inside it.
LEAD_BLOCK_MAX = 1500
#: A lead has at most this many paragraphs or list items (a bullet-point summary).
LEAD_BLOCKS = 4


def _is_lead(el: HtmlElement) -> bool:
    """A lead-marked element with some text, few links, and the shape of a paragraph or
    a short bullet summary (not a whole header with headline, byline and date)."""
    if not hints.LEAD.search(_class_id(el)):
        return False
    length = _chars(el.text_content())
    if length < 40 or _link_density(el, length) >= 0.3:
        return False
    blocks = 0
    for sub in el.iterdescendants("h1", "p", "h2", "h3", "h4", "li", "figure", "time"):
        if sub.tag in ("h1", "figure", "time"):
            return False
        blocks += 1
    return blocks <= LEAD_BLOCKS


# --------------------------------------------------------------------------- walking

_BLOCK_KINDS = {"p": "p", "h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5",
                "h6": "h6", "li": "li", "blockquote": "blockquote", "pre": "pre", "dt": "p",
                "dd": "p", "td": "p", "th": "p", "figcaption": "figcaption",
                "caption": "p", "address": "p"}


class _Walker:
    def __init__(self, clutter: Clutter, base_url: str):
        self.clutter = clutter
        self.base = base_url
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.html: list[str] = []
        self.link_chars = 0
        self.share_chars = 0
        self.in_share = 0
        self.share_stack: list[bool] = []
        self.kind_stack: list[str] = []
        self.in_link = 0
        self.in_pre = 0
        self.quote = 0

    def flush(self) -> None:
        if not self.text:
            self.html.clear()
            self.link_chars = self.share_chars = 0
            return
        raw = "".join(self.text)
        if self.in_pre:
            text = raw.strip("\n")
        else:
            lines = [_WS.sub(" ", line).strip() for line in raw.split("\n")]
            text = "\n".join(line for line in lines if line)
        if text:
            kind = self.kind_stack[-1] if self.kind_stack else "p"
            if self.quote and kind == "p":
                kind = "blockquote"
            body = "".join(self.html).strip()
            self.blocks.append(Block(kind, text, body, self.link_chars, self.share_chars))
        self.text.clear()
        self.html.clear()
        self.link_chars = 0
        self.share_chars = 0

    def add(self, text: str | None) -> None:
        if not text:
            return
        if not self.in_pre:
            text = text.replace("\n", " ")
        self.text.append(text)
        self.html.append(html_lib.escape(text, quote=False))
        if self.in_link:
            self.link_chars += len(text.strip())
            if self.in_share:
                self.share_chars += len(text.strip())

    def walk(self, container: HtmlElement) -> None:
        stack: list[tuple[HtmlElement, bool]] = [(container, False)]
        while stack:
            el, leaving = stack.pop()
            tag = _tag(el)
            if leaving:
                self._leave(el, tag)
                if el is not container:
                    self.add(el.tail)
                continue
            if el is not container and self.clutter.own(el):
                self.add(el.tail)
                continue
            if tag == "br":
                self.text.append("\n")
                self.html.append("<br>")
                self.add(el.tail)
                continue
            if tag == "img":
                self.add(el.tail)
                continue
            if tag == "table" and self._simple_table(el):
                self.flush()
                self._table(el)
                self.add(el.tail)
                continue
            self._enter(el, tag)
            self.add(el.text)
            stack.append((el, True))
            for child in reversed(el):
                stack.append((child, False))
        self.flush()

    def _enter(self, el: HtmlElement, tag: str) -> None:
        if tag in hints.BLOCK_TAGS:
            self.flush()
            kind = _BLOCK_KINDS.get(tag)
            if kind:
                self.kind_stack.append(kind)
            if tag == "pre":
                self.in_pre += 1
            if tag == "blockquote":
                self.quote += 1
        elif tag in _INLINE_HTML:
            if tag == "a":
                self.in_link += 1
                href = el.get("href")
                share = bool(href and hints.SHARE_HREF.search(href))
                self.in_share += share
                self.share_stack.append(share)
                if href and not href.startswith(("javascript:", "#")):
                    href = urljoin(self.base, href.strip())
                    self.html.append(f'<a href="{html_lib.escape(href)}">')
                else:
                    self.html.append("<a>")
            else:
                self.html.append(f"<{tag}>")

    def _leave(self, el: HtmlElement, tag: str) -> None:
        if tag in hints.BLOCK_TAGS:
            self.flush()
            if _BLOCK_KINDS.get(tag):
                self.kind_stack.pop()
            if tag == "pre":
                self.in_pre -= 1
            if tag == "blockquote":
                self.quote -= 1
        elif tag in _INLINE_HTML:
            if tag == "a":
                self.in_link -= 1
                if self.share_stack:
                    self.in_share -= self.share_stack.pop()
            self.html.append(f"</{tag}>")

    def _simple_table(self, table: HtmlElement) -> bool:
        return table.find(".//table") is None and not table.xpath(
            ".//p|.//div[p]|.//ul|.//ol|.//h1|.//h2|.//h3")

    def _table(self, table: HtmlElement) -> None:
        rows_text: list[str] = []
        rows_html: list[str] = []
        for tr in table.iter("tr"):
            if self.clutter.inside(tr) and not self.clutter.inside(table):
                continue
            cells = [c for c in tr if _tag(c) in ("td", "th")]
            texts = [_WS.sub(" ", c.text_content()).strip() for c in cells]
            if not any(texts):
                continue
            rows_text.append(" | ".join(t for t in texts))
            rows_html.append("<tr>" + "".join(
                f"<{_tag(c)}>{html_lib.escape(t, quote=False)}</{_tag(c)}>"
                for c, t in zip(cells, texts, strict=True)) + "</tr>")
        if rows_text:
            links = sum(len(_WS.sub(" ", a.text_content()).strip()) for a in table.iter("a"))
            self.blocks.append(Block("table", "\n\n".join(rows_text),
                                     "<table>" + "".join(rows_html) + "</table>", links))


def walk_blocks(containers: Sequence[HtmlElement], clutter: Clutter, base_url: str) -> list[Block]:
    walker = _Walker(clutter, base_url)
    for container in containers:
        walker.walk(container)
        walker.kind_stack.clear()
        walker.in_link = walker.in_pre = walker.quote = walker.in_share = 0
        walker.share_stack.clear()
    return walker.blocks


def filter_blocks(blocks: list[Block], title: str | None) -> list[Block]:
    """Drop furniture lines, link lists and a repeated title from the walked blocks."""
    out: list[Block] = []
    norm_title = _WS.sub(" ", title or "").strip().lower()
    for i, block in enumerate(blocks):
        text = block.text
        length = len(text)
        bare = text.strip(" :.!?»›>-–")
        if hints.FURNITURE_TEXT.match(bare) or (
                length <= hints.BOX_LABEL_MAX and hints.BOX_LABEL.match(bare)) or (
                length <= hints.PROMO_LINE_MAX and block.kind in ("p", "li")
                and hints.PROMO_LINE.match(text)):
            continue
        if block.kind.startswith("h") and text.lower() == norm_title:
            continue
        if block.kind == "figcaption":
            continue
        if block.share_chars * 2 >= length:
            continue  # a share bar
        density = block.link_chars / length if length else 1.0
        if density > 0.6 and block.kind != "table" and (
                block.kind != "p" or length >= 200 or hints.LINK_LINE_PREFIX.match(text)
                or _link_run(blocks, i)):
            continue
        if block.kind == "p" and block.link_chars and hints.LINK_LINE_PREFIX.match(text) and (
                density > 0.3):
            continue
        out.append(block)
    # Trailing headings and short link-free labels ("Related", "Weitere Informationen",
    # "Mehr Themen:") after the last real paragraph are furniture; a short cited-source line
    # ("Source: <a>X</a>", "H/T X") stays.
    while out and (out[-1].kind.startswith("h") or (
            out[-1].kind == "p" and len(out[-1].text) < TRAILING_LABEL and (
                not out[-1].link_chars and not hints.CITED_LINE.match(out[-1].text)
                and not out[-1].text.rstrip().endswith(_SENTENCE_END)))):
        out.pop()
    return out


_SENTENCE_END = (".", "!", "?", '"', "”", "“", "»", ")")
#: Trailing lines shorter than this without a link are labels, not article text.
TRAILING_LABEL = 40


def _dense(block: Block) -> bool:
    return bool(block.text) and block.link_chars / len(block.text) > 0.6


def _link_run(blocks: list[Block], i: int) -> bool:
    """Is blocks[i] next to another link-dense block (a list of links, not a cited source)?"""
    return (i > 0 and _dense(blocks[i - 1])) or (i + 1 < len(blocks) and _dense(blocks[i + 1]))


def _wrap(blocks: list[Block]) -> Iterable[str]:
    in_list = False
    for block in blocks:
        if block.kind == "li" and not in_list:
            yield "<ul>"
            in_list = True
        elif block.kind != "li" and in_list:
            yield "</ul>"
            in_list = False
        if block.kind == "table":
            yield block.html
        elif block.kind == "blockquote":
            yield f"<blockquote><p>{block.html}</p></blockquote>"
        else:
            yield f"<{block.kind}>{block.html}</{block.kind}>"
    if in_list:
        yield "</ul>"


#: Below this many characters from the chosen container, fall back to the whole page.
FALLBACK_BELOW = 250


def _chars_of(blocks: list[Block]) -> int:
    return sum(len(b.text) for b in blocks)


def sanitize(fragment: str) -> str:
    if not fragment:
        return ""
    return nh3.clean(fragment, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto"}, link_rel=None)


def _common_ancestor(elements: Sequence[HtmlElement]) -> HtmlElement | None:
    if not elements:
        return None
    common = elements[0]
    for el in elements[1:]:
        while common is not None and not _contains(common, el):
            common = common.getparent()
    return common


def extract_body(root: HtmlElement, base_url: str, *, title: str | None = None,
                 drop: Sequence[HtmlElement] = (),
                 rule_body: Sequence[HtmlElement] = ()) -> BodyResult:
    body_el = root.find("body")
    page = body_el if body_el is not None else root
    paras = paragraphs(root) if not rule_body else []
    raw_credit, _ = credit_ancestors(paras)
    clutter = Clutter(drop=drop, keep=rule_body, raw_credit=raw_credit)
    containers = choose_body(root, clutter, rule_body, paras, title)
    blocks = filter_blocks(walk_blocks(containers, clutter, base_url), title)
    if _chars_of(blocks) < FALLBACK_BELOW and not rule_body and containers[0] is not page:
        # The chosen container has almost nothing: read the whole page, clutter skipped.
        whole = filter_blocks(walk_blocks([page], clutter, base_url), title)
        if _chars_of(whole) > 2 * _chars_of(blocks):
            containers, blocks = [page], whole
    element = _common_ancestor(containers)
    return BodyResult(element, unescape_twice_escaped(blocks))


# An entity written out as text ("&ccedil;", "&#233;"): the page escaped its text twice.
_TEXT_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,9}|#\d{2,6}|#[xX][0-9A-Fa-f]{2,5});")
_HTML_ENTITY = re.compile(r"&amp;((?:[A-Za-z][A-Za-z0-9]{1,9}|#\d{2,6}|#[xX][0-9A-Fa-f]{2,5});)")


def unescape_twice_escaped(blocks: list[Block]) -> list[Block]:
    """A CMS that escapes its text twice shows "Opera&ccedil;&atilde;o": when entities
    appear as text several times, they are read as the characters they name."""
    found = 0
    for block in blocks:
        if "&" in block.text:
            found += len(_TEXT_ENTITY.findall(block.text))
            if found >= TWICE_ESCAPED_MIN:
                break
    if found < TWICE_ESCAPED_MIN:
        return blocks
    return [Block(b.kind, html_lib.unescape(b.text), _HTML_ENTITY.sub(r"&\1", b.html),
                  b.link_chars, b.share_chars) if "&" in b.text else b for b in blocks]


#: Entities seen as text at least this often mean the page's text was escaped twice.
TWICE_ESCAPED_MIN = 3
