"""Text helpers for attribution extraction: clutter tests, body guess, blocks with link spans,
sentence splitting and proper-name phrases. Pure functions over lxml trees and strings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

HtmlElement = lxml_html.HtmlElement


class Order(Protocol):
    """Document-order positions of elements (a dict, or attribution.DocOrder)."""

    def get(self, el: HtmlElement, default: int = 0, /) -> int: ...


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Tags whose content is never article prose.
SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "button", "select", "option", "form",
    "input", "textarea", "iframe", "object", "video", "audio", "canvas", "map", "head", "title",
})
#: Tags that start their own text block.
BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dd", "dt", "td", "th", "tr", "table", "tbody", "thead",
    "blockquote", "section", "article", "main", "header", "footer", "aside", "nav", "figure",
    "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address", "hr", "body", "center",
})
#: Structural tags that are never citations.
CLUTTER_TAGS = frozenset({"nav", "aside", "footer", "menu"})

_CLUTTER_WORDS = (
    r"nav|navbar|navigation|menu|breadcrumbs?|sidebar|side-bar|widget|widgets|related|"
    r"related-posts|relatedposts|recommended|recommendations|recirc|more-stories|"
    r"more-from|read-more|readmore|also-read|author-box|authorbox|author-bio|about-author|"
    r"author-info|author-card|bio-box|newsletter|subscribe|signup|sign-up|share|sharing|"
    r"share-bar|sharebar|social-share|comments?|comment-list|respond|footer|site-footer|"
    r"promo|advert|advertisement|ad-slot|ads|sponsored|cookie|cookies|consent|gdpr|"
    r"trending|popular|most-read|mostread|most-popular|outbrain|taboola|paywall|"
    r"tags|tag-list|post-tags|entry-tags|categories|pagination|post-navigation|"
    r"nav-links|skip-link|masthead|topbar|top-bar|site-header|related-links|"
    r"further-reading|read-next|up-next|teaser-list|rail|right-rail"
)
_CLUTTER_RE = re.compile(rf"(?:^|[\s_-])(?:{_CLUTTER_WORDS})(?:$|[\s_-])", re.I)
_ROLE_CLUTTER = frozenset({"navigation", "complementary", "contentinfo", "banner", "menu"})


def tag_of(el: object) -> str:
    tag = getattr(el, "tag", None)
    return tag.lower() if isinstance(tag, str) else ""


def is_clutter_element(el: HtmlElement) -> bool:
    """True for one element (not its ancestors) that holds page furniture."""
    tag = tag_of(el)
    if tag in CLUTTER_TAGS:
        return True
    if (el.get("role") or "").lower() in _ROLE_CLUTTER:
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}".strip()
    if not names:
        return False
    # the article body itself often carries words like "post-content entry"; only the
    # furniture words count, and an element marked as the article is never clutter
    low = names.lower()
    if "article-body" in low or "entry-content" in low or "articlebody" in low:
        return False
    return bool(_CLUTTER_RE.search(names))


class ClutterCache:
    """Memoised "is this element inside page furniture?" answers."""

    def __init__(self, stop: HtmlElement | None = None) -> None:
        self._memo: dict[HtmlElement, bool] = {}
        self._stop = stop

    def inside(self, el: HtmlElement) -> bool:
        path: list[HtmlElement] = []
        node: HtmlElement | None = el
        result = False
        while node is not None:
            if node in self._memo:
                result = self._memo[node]
                break
            path.append(node)
            if is_clutter_element(node):
                result = True
                break
            if node is self._stop:
                break
            node = node.getparent()
        for p in path:
            self._memo[p] = result
        return result


def absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def host_of(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


_SPACES = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"['’]s$")


def clean_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


# --------------------------------------------------------------------------- body guess

_BODY_HINTS = ("article-body", "articlebody", "entry-content", "post-content", "post-body",
               "story-body", "article-content", "article__body", "article-text",
               "story-content", "content-body", "body-text", "main-content", "news-content",
               "press-release-body", "release-body", "rich-text", "prose")


def _text_len(el: HtmlElement) -> int:
    return len(clean_space(el.text_content() or ""))


def guess_body(root: HtmlElement) -> HtmlElement | None:
    """A simple stand-in for the body extractor: marked article containers first, else the
    element holding the most paragraph text."""
    cache = ClutterCache()
    for el in root.iter(etree.Element):
        if el.get("itemprop") is None:
            continue
        if (el.get("itemprop") or "").lower() == "articlebody" and _text_len(el) > 150:
            return el
    for el in root.iter(etree.Element):
        if (el.get("class") is None and el.get("id") is None) or tag_of(el) in SKIP_TAGS:
            continue
        names = f"{el.get('class') or ''} {el.get('id') or ''}"
        low = names.lower()
        if any(h in low for h in _BODY_HINTS) and not cache.inside(el) and \
                _text_len(el) > 200:
            return el
    scores: dict[HtmlElement, float] = {}
    for p in root.iter("p"):
        if cache.inside(p):
            continue
        n = _text_len(p)
        if n < 25:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + n
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + n / 2
    if scores:
        return max(scores, key=lambda k: scores[k])
    for tag in ("article", "main"):
        found = root.find(f".//{tag}")
        if found is not None:
            return found
    return root.find(".//body")


# --------------------------------------------------------------------------- blocks

@dataclass
class Link:
    start: int
    end: int
    href: str | None  # absolute URL or None
    text: str


@dataclass
class Block:
    """One run of prose (a paragraph, list item, cell or loose div text) and its links."""

    el: HtmlElement
    text: str
    links: list[Link] = field(default_factory=list)
    order: int = 0
    in_blockquote: bool = False


_WS = re.compile(r"\s+")


class _Collector:
    """Collects the text of one block with white space collapsed as it goes, so that link
    offsets are exact without a second pass."""

    def __init__(self, base: str) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.last = "\n"  # last character written; "\n" at the start swallows spaces
        self.links: list[Link] = []
        self.base = base

    def add(self, s: str | None) -> None:
        if not s:
            return
        s = _WS.sub(" ", s.replace("\xa0", " "))
        if s[0] == " " and self.last in " \n":
            s = s[1:]
            if not s:
                return
        self.parts.append(s)
        self.length += len(s)
        self.last = s[-1]

    def newline(self) -> None:
        if self.last == "\n":
            return
        if self.last == " ":
            self.parts[-1] = self.parts[-1][:-1]
            self.length -= 1
        self.parts.append("\n")
        self.length += 1
        self.last = "\n"

    def walk(self, el: HtmlElement, top: bool) -> None:
        if top:
            self.add(el.text)
        for child in el:
            tag = tag_of(child)
            if not tag:
                self.add(child.tail)
                continue
            if tag in SKIP_TAGS or (tag in BLOCK_TAGS and tag != "center"):
                if tag in BLOCK_TAGS:
                    self.newline()
            elif tag == "br":
                self.newline()
            elif tag == "a":
                start = self.length
                self.add(child.text)
                self.walk(child, top=False)
                href = absolute(self.base, child.get("href"))
                if href is not None:  # in-page anchors ("#fn1") are not citations
                    self.links.append(Link(start, self.length, href, ""))
            else:
                self.add(child.text)
                self.walk(child, top=False)
            self.add(child.tail)


def own_text(el: HtmlElement, base: str) -> tuple[str, list[Link]]:
    """Text of ``el`` without its block-level descendants, with link spans."""
    col = _Collector(base)
    col.walk(el, top=True)
    raw = "".join(col.parts)
    text = raw.rstrip()
    n = len(text)
    links = []
    for ln in col.links:
        s, e = min(ln.start, n), min(ln.end, n)
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        links.append(Link(s, e, ln.href, text[s:e].replace("\n", " ")))
    return text, links


def iter_blocks(container: HtmlElement, base: str, cache: ClutterCache,
                order: Order) -> Iterator[Block]:
    """Prose blocks inside ``container`` in document order, page furniture left out."""
    for el in container.iter():
        tag = tag_of(el)
        if not tag or tag not in BLOCK_TAGS or tag in ("figure", "figcaption", "hr"):
            continue
        if tag in ("ul", "ol", "dl", "table", "tbody", "thead", "tr"):
            continue
        if cache.inside(el) or _inside_skipped(el, container):
            continue
        text, links = own_text(el, base)
        if len(text) < 3:
            continue
        yield Block(el, text, links, order.get(el, 0), _inside(el, "blockquote", container))


def _inside_skipped(el: HtmlElement, stop: HtmlElement) -> bool:
    node = el.getparent()
    while node is not None and node is not stop:
        t = tag_of(node)
        if t in SKIP_TAGS or t in ("figure", "figcaption"):
            return True
        node = node.getparent()
    return False


def _inside(el: HtmlElement, tag: str, stop: HtmlElement) -> bool:
    node: HtmlElement | None = el
    while node is not None:
        if tag_of(node) == tag:
            return True
        if node is stop:
            return False
        node = node.getparent()
    return False


# --------------------------------------------------------------------------- sentences

_ABBREV = _words("""mr mrs ms dr prof st jr sr inc co corp ltd llc no vs etc jan feb mar apr
jun jul aug sep sept oct nov dec gen gov sen rep lt col capt sgt u.s u.k e.g i.e approx dept
fig est mt ft ave blvd""")
_SENT_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])|\n+")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of ``text``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end()
        if m.group().startswith("."):
            word = re.search(r"([\w.]+)\.$", text[start:m.start() + 1])
            if word:
                w = word.group(1).lower()
                if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                    continue
        if end > start:
            spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# --------------------------------------------------------------------------- names

_CAP = r"(?:[A-Z0-9À-Ý][\w&.'’+-]*|[a-z]+[A-Z][\w.+-]*)"
_CONNECT = r"(?:of|de|du|des|der|für|for|and|&|la|le|von|van)"
NAME_AFTER = re.compile(
    rf"(?:the\s+)?(?P<name>(?:The\s+)?{_CAP}(?:[ \t]+(?:{_CAP}|{_CONNECT}(?=[ \t]+{_CAP})))"
    rf"{{0,6}})")
NAME_BEFORE = re.compile(
    rf"(?P<name>(?:The\s+)?{_CAP}(?:[ \t]+(?:{_CAP}|{_CONNECT}(?=[ \t]+{_CAP}))){{0,6}})"
    rf"(?:['’]s)?\s*$")

PRONOUNS = _words("""he she they it we i you him her them us me his its their our this that
these those there here who which what one someone somebody everyone nobody""")
NOT_NAMES = _words("""the a an company the company firm the firm sources source report reports
people officials analysts insiders experts critics users fans owners readers customers
manufacturer brand photographers journalists reporters spokesperson spokesman spokeswoman
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december today yesterday tomorrow earlier later
however meanwhile but and also additionally in on at for with from by as if when while after
before update updated editor note video photo image photos images news breaking exclusive
rumor rumour rumors rumours""")
FIRST_NAMES = _words("""aaron adam adrian aiko akira alan albert alex alexander alexandra
alice alicia amanda amy andrea andreas andrew andy angela anna anne anthony antoine ari ben
benjamin bernd bill bob brad brian bruce carl carla carlos caroline catherine charles charlie
chris christian christine christopher claire claudia colin dan daniel daniela david dennis diana
dieter dominik dorothy ed edward elena elizabeth emily emma eric erik eva felix fiona florian
frank françois fred friedrich gabriel gary george georg gerhard greg hannah hans harry heinz
helen helmut henry hiroshi ian isabel jack jake james jan jane janet jason jean jeff jennifer
jens jessica jim joe johann johannes john jonas jonathan jordan jörg josé joseph julia julian
julie jürgen kai karen karl kate katherine kathy katrin keith ken kenji kevin klaus koji kurt
laura lauren lea lena leo lisa lucas lucy lukas luke maria marie mark markus martin mary
matt matthew matthias max michael michel michelle mike miriam monika naoki nathan nicholas
nick nicole nina oliver olivia pascal patrick paul pedro peter petra philip philipp pierre rachel
ralf raymond rebecca richard rob robert roger ryan sabine sam samuel sandra sara sarah satoshi
sebastian simon sophie stefan stephan stephanie steve steven susan sven takashi taro thomas
tim timothy tobias todd tom tony uwe victoria walter william wolfgang yuki yusuke""")
CORP_WORDS = _words("""inc inc. corp corp. corporation co co. ltd ltd. llc gmbh ag sa plc
group company camera cameras optics imaging electronics holdings association agency institute
university news times post journal review magazine press wire daily weekly world media network
herald tribune gazette asia rumors rumours blog digital photography photo foundation council
ministry office commission bureau lab labs systems technologies""")

_TRAIL = re.compile(r"(?:\s+(?:of|de|du|des|der|für|for|and|&|la|le|von|van|am|im|on))+$")
_DAYS = re.compile(r"\s+(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"January|February|March|April|May|June|July|August|September|October|"
                   r"November|December)\b.*$")


def tidy_name(name: str) -> str:
    name = clean_space(name).strip(" ,;:.!?\"'“”‘’()[]")
    name = _POSSESSIVE.sub("", name)
    name = _DAYS.sub("", name)
    name = _TRAIL.sub("", name)
    if name.lower().startswith("the ") and len(name.split()) == 2 and \
            name.split()[1].lower() in NOT_NAMES:
        return ""
    return name.strip(" ,;:.")


def plausible_name(name: str) -> bool:
    if not name or len(name) < 2 or len(name) > 80:
        return False
    low = name.lower()
    if low in NOT_NAMES or low in PRONOUNS:
        return False
    first = low.split()[0]
    if first in PRONOUNS or first in {"a", "an", "some", "several", "many", "one", "two",
                                      "three", "multiple", "other", "another", "both"}:
        return False
    if re.fullmatch(r"[\d\W_]+", name):
        return False
    return any(c.isupper() for c in name) or "." in name


def looks_like_person(name: str) -> bool:
    toks = name.replace(".", ". ").split()
    if not 2 <= len(toks) <= 4:
        return False
    if any(t.lower().strip(".,") in CORP_WORDS for t in toks):
        return False
    first = toks[0].lower()
    if first in FIRST_NAMES:
        return True
    return bool(re.fullmatch(r"[A-Z]\.", toks[0]))


def link_at(links: list[Link], start: int, end: int) -> Link | None:
    """The first link overlapping [start, end)."""
    for ln in links:
        if ln.start < end and ln.end > start and ln.end > ln.start:
            return ln
    return None
