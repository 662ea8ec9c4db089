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


def _tag(el: object) -> str:
    tag = getattr(el, "tag", None)
    return tag.lower() if isinstance(tag, str) else ""


def _class_id(el: HtmlElement) -> str:
    cls = el.get("class")
    ident = el.get("id")
    if cls and ident:
        return f"{cls} {ident}"
    return cls or ident or ""


class Clutter:
    """Judges elements as clutter (memoized), from tag, role, visibility and class/id words."""

    def __init__(self, drop: Iterable[HtmlElement] = (), keep: Iterable[HtmlElement] = ()):
        self._own: dict[HtmlElement, bool] = {}
        self._inside: dict[HtmlElement, bool] = {}
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

    @staticmethod
    def _judge(el: HtmlElement) -> bool:
        tag = _tag(el)
        if not tag:
            return True  # comments, processing instructions
        if tag in hints.SKIP_TAGS:
            return True
        if tag in ("body", "html", "main"):
            return False
        if el.get("hidden") is not None or el.get("aria-hidden") == "true":
            return True
        style = el.get("style")
        if style and _HIDDEN_STYLE.search(style):
            return True
        role = el.get("role")
        if role and role.lower() in hints.NEGATIVE_ROLES:
            return True
        names = _class_id(el)
        if names:
            tokens = names.split()
            if any(hints.NEGATIVE.search(t) for t in tokens) and not any(
                    hints.POSITIVE.search(t) for t in tokens):
                return True
        return False

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

_TAG_WEIGHT = {"div": 5, "article": 8, "section": 3, "main": 5, "pre": 3, "td": 3,
               "blockquote": 3, "address": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3,
               "dt": -3, "li": -3, "form": -3, "h1": -5, "h2": -5, "h3": -5, "h4": -5,
               "h5": -5, "h6": -5, "th": -5, "header": -5, "footer": -10, "nav": -10}


def _class_weight(el: HtmlElement) -> int:
    names = _class_id(el)
    if not names:
        return 0
    weight = 0
    tokens = names.split()
    if any(hints.NEGATIVE.search(t) for t in tokens):
        weight -= 25
    if any(hints.POSITIVE.search(t) for t in tokens):
        weight += 25
    if hints.BODY_HINT.search(names):
        weight += 25
    return weight


def _text_of(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _link_density(el: HtmlElement, text_len: int) -> float:
    if text_len <= 0:
        return 1.0
    links = 0
    for a in el.iter("a"):
        links += len(_WS.sub(" ", a.text_content()).strip())
    return min(1.0, links / text_len)


def _own_text_len(el: HtmlElement) -> int:
    """Length of text directly inside el (not in child elements), for text-bearing divs."""
    total = len((el.text or "").strip())
    for child in el:
        if _tag(child) in hints.BLOCK_TAGS:
            return 0  # has block children: not a paragraph
        total += len((child.tail or "").strip())
    return total


def score_candidates(root: HtmlElement, clutter: Clutter) -> dict[HtmlElement, float]:
    scores: dict[HtmlElement, float] = {}
    paras = root.xpath("//p|//pre|//td|//blockquote|//div[text()[normalize-space()]]"
                       "|//section[text()[normalize-space()]]")
    for para in paras:
        tag = _tag(para)
        if tag in ("div", "section"):
            length = _own_text_len(para)
            if length < 25:
                continue
            text = None
        else:
            if tag == "td" and para.find(".//table") is not None:
                continue
            text = _text_of(para)
            length = len(text)
            if length < 25:
                continue
        if clutter.inside(para):
            continue
        commas = len(_COMMAS.findall(text)) if text is not None else 0
        score = 1 + commas + min(length / 100, 3)
        node = para.getparent() if tag not in ("div", "section", "td") else para
        level = 0
        while node is not None and level < 5:
            if _tag(node) in ("html",):
                break
            if node not in scores:
                scores[node] = _TAG_WEIGHT.get(_tag(node), 0) + _class_weight(node)
            divider = 1 if level == 0 else 2 if level == 1 else level * 3
            scores[node] += score / divider
            node = node.getparent()
            level += 1
    return scores


def _pick(scores: dict[HtmlElement, float]) -> tuple[HtmlElement | None, float]:
    if not scores:
        return None, 0.0
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:8]
    best: HtmlElement | None = None
    best_score = float("-inf")
    for el, raw in ranked:
        text_len = len(_text_of(el))
        final = raw * (1 - _link_density(el, text_len))
        if final > best_score:
            best, best_score = el, final
    return best, best_score


def _hinted_body(root: HtmlElement, clutter: Clutter) -> HtmlElement | None:
    """A container marked as the article body (itemprop=articleBody or a telling class)."""
    for el in root.xpath('//*[@itemprop="articleBody" or @itemprop="articlebody"]'):
        if not clutter.inside(el):
            return el
    return None


def choose_body(root: HtmlElement, clutter: Clutter,
                rule_body: Sequence[HtmlElement] = ()) -> list[HtmlElement]:
    """The element(s) holding the article, in document order."""
    if rule_body:
        return list(rule_body)
    scores = score_candidates(root, clutter)
    top, top_score = _pick(scores)
    hinted = _hinted_body(root, clutter)
    if hinted is not None and (
            top is None or _contains(hinted, top) or _contains(top, hinted)) and (
            top is None or len(_text_of(hinted)) >= 0.5 * len(_text_of(top))):
        return [hinted]
    if top is None:
        body = root.find("body")
        return [body] if body is not None else [root]
    # Walk up while the parent clearly holds more article text than the top candidate.
    parent = top.getparent()
    while parent is not None and _tag(parent) not in ("body", "html"):
        p_score = scores.get(parent, 0.0)
        if p_score < top_score * 0.9 or clutter.own(parent):
            break
        if p_score > top_score:
            top, top_score = parent, p_score
        parent = parent.getparent()
    return _with_siblings(top, top_score, scores, clutter)


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    node: HtmlElement | None = inner
    while node is not None:
        if node is outer:
            return True
        node = node.getparent()
    return False


def _with_siblings(top: HtmlElement, top_score: float, scores: dict[HtmlElement, float],
                   clutter: Clutter) -> list[HtmlElement]:
    parent = top.getparent()
    if parent is None:
        return [top]
    threshold = max(10.0, top_score * 0.2)
    top_names = top.get("class")
    chosen: list[HtmlElement] = []
    for sib in parent:
        if sib is top:
            chosen.append(sib)
            continue
        if not _tag(sib) or clutter.own(sib):
            continue
        bonus = top_score * 0.2 if top_names and sib.get("class") == top_names else 0.0
        if scores.get(sib, 0.0) + bonus >= threshold:
            chosen.append(sib)
        elif _tag(sib) == "p":
            text = _text_of(sib)
            ld = _link_density(sib, len(text))
            if (len(text) > 80 and ld < 0.25) or (
                    0 < len(text) <= 80 and ld == 0 and re.search(r"\.( |$)", text)):
                chosen.append(sib)
    return chosen


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
        self.kind_stack: list[str] = []
        self.in_link = 0
        self.in_pre = 0
        self.quote = 0

    def flush(self) -> None:
        if not self.text:
            self.html.clear()
            self.link_chars = 0
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
            self.blocks.append(Block(kind, text, body, self.link_chars))
        self.text.clear()
        self.html.clear()
        self.link_chars = 0

    def add(self, text: str | None) -> None:
        if not text:
            return
        if not self.in_pre:
            text = text.replace("\n", " ")
        self.text.append(text)
        self.html.append(html_lib.escape(text, quote=False))
        if self.in_link:
            self.link_chars += len(text.strip())

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
            self.blocks.append(Block("table", "\n".join(rows_text),
                                     "<table>" + "".join(rows_html) + "</table>", links))


def walk_blocks(containers: Sequence[HtmlElement], clutter: Clutter, base_url: str) -> list[Block]:
    walker = _Walker(clutter, base_url)
    for container in containers:
        walker.walk(container)
        walker.kind_stack.clear()
        walker.in_link = walker.in_pre = walker.quote = 0
    return walker.blocks


def filter_blocks(blocks: list[Block], title: str | None) -> list[Block]:
    """Drop furniture lines, link lists and a repeated title from the walked blocks."""
    out: list[Block] = []
    norm_title = _WS.sub(" ", title or "").strip().lower()
    for block in blocks:
        text = block.text
        length = len(text)
        if hints.FURNITURE_TEXT.match(text.strip(" :.!»›>")):
            continue
        if block.kind.startswith("h") and text.lower() == norm_title:
            continue
        if block.kind == "figcaption":
            continue
        density = block.link_chars / length if length else 1.0
        if density > 0.6 and (block.kind in ("li", "p", "h2", "h3", "h4") or length < 200):
            continue
        out.append(block)
    # Trailing headings with nothing after them ("Related", "More from ...") are furniture.
    while out and out[-1].kind.startswith("h"):
        out.pop()
    return out


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


def sanitize(fragment: str) -> str:
    if not fragment:
        return ""
    return nh3.clean(fragment, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto"}, link_rel=None)


def extract_body(root: HtmlElement, base_url: str, *, title: str | None = None,
                 drop: Sequence[HtmlElement] = (),
                 rule_body: Sequence[HtmlElement] = ()) -> BodyResult:
    clutter = Clutter(drop=drop, keep=rule_body)
    containers = choose_body(root, clutter, rule_body)
    blocks = filter_blocks(walk_blocks(containers, clutter, base_url), title)
    element = containers[0] if len(containers) == 1 else containers[0].getparent()
    return BodyResult(element, blocks)
