"""Attributions as data: who wrote an article, whom it cites, who is quoted, what is
embedded, whose photos it shows and which press release it covers.

``find_attributions(root, body, url, authors)`` is pure: it reads the parsed page and
returns ``models.Attribution`` values in order of appearance. Precision first: a row is
only produced when the wording or markup says so; links in navigation, related-story
lists, author boxes and footers are never citations.

The helpers live in private modules: ``attr_text`` (blocks, sentences, names),
``attr_sources`` (sources, press releases), ``attr_quotes`` (quotations), ``attr_media``
(embeds, credits, bylines).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lxml import etree
from lxml import html as lxml_html

from aggregator.extract.attr_media import find_authors, find_credits, find_embeds
from aggregator.extract.attr_quotes import (
    Speaker,
    blockquote_speaker,
    find_quotes,
    parse_speaker,
)
from aggregator.extract.attr_sources import Found, find_sources, main_org, own_site_names
from aggregator.extract.attr_text import (
    CORP_WORDS,
    Block,
    ClutterCache,
    Order,
    clean_space,
    guess_body,
    is_clutter_element,
    iter_blocks,
    own_text,
    tag_of,
)
from aggregator.models import Attribution

__all__ = ["find_attributions"]

#: Prose blocks read per page at most (a long feature has a few hundred).
MAX_BLOCKS = 1500

_EMBED_CLASSES = re.compile(r"twitter-tweet|instagram-media|mastodon-embed|bluesky-embed|"
                            r"tiktok-embed|text-post-media|twitter-video", re.I)


def find_attributions(root: lxml_html.HtmlElement, body: lxml_html.HtmlElement | None,
                      url: str, authors: Sequence[str]) -> tuple[Attribution, ...]:
    """All attributions of one article page, in order of appearance.

    root: the whole parsed page; body: the article body element (None: guessed here);
    url: the page URL (links are made absolute against it); authors: names the metadata
    stage found, matched to byline profile links."""
    if root is None or not isinstance(getattr(root, "tag", None), str):
        return ()
    try:
        return _find(root, body, url, authors)
    except RecursionError:
        return ()  # pathologically deep markup: no attributions rather than no article


def _find(root: lxml_html.HtmlElement, body: lxml_html.HtmlElement | None,
          url: str, authors: Sequence[str]) -> tuple[Attribution, ...]:
    if body is None:
        body = guess_body(root)
    order = DocOrder(body)
    cache = ClutterCache()
    found: list[Found] = []
    found.extend(find_authors(root, list(authors), url, cache, order))

    blocks: list[Block] = []
    if body is not None:
        body_cache = ClutterCache()
        for b in iter_blocks(body, url, body_cache, order):
            if _in_embed(b.el, body):
                continue
            blocks.append(b)
            if len(blocks) >= MAX_BLOCKS:
                break  # bounded work on giant pages; articles are far shorter
    quoted_blocks, bq_rows = _blockquotes(blocks, body)
    prose = [b for b in blocks if id(b) not in quoted_blocks]
    authors_found = [f for f in found if f.kind == "author"]
    persons = {f.name.casefold() for f in authors_found}
    org = main_org(prose, persons)
    context = "\n".join([b.text for b in prose] + (
        [clean_space(c.text_content()) for c in body.iter("figcaption")]
        if body is not None else []))
    quotes = find_quotes(prose, context, org)
    found.extend(bq_rows)
    found.extend(quotes)
    # people (several words) are never cited outlets; one-word speakers may be companies
    persons |= {f.name.casefold() for f in quotes + bq_rows if _person_like(f.name)}
    headline = " ".join(clean_space(h.text_content()) for h in root.iter("title", "h1"))
    org = main_org(prose, persons, headline)  # again, now that the quoted people are known
    own = own_site_names(_site_names(root), url)
    found.extend(find_sources(prose + _syndication_notes(root, body, url, order), persons,
                              url, own, org))
    found.extend(find_embeds(root, url, cache, order))
    found.extend(find_credits(root, body, url, cache, order))
    return _finish(found)


_TITLE_SPLIT = re.compile(r"\s+[|–—·:»-]\s+|\s+::\s+")


def _site_names(root: lxml_html.HtmlElement) -> list[str]:
    """The page's own site name(s), from og:site_name, application-name and the title."""
    names: list[str] = []
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").lower()
        if key in ("og:site_name", "application-name", "twitter:site") and meta.get("content"):
            names.append(meta.get("content", "").lstrip("@"))
    title = root.find(".//title")
    if title is not None and title.text:
        parts = _TITLE_SPLIT.split(title.text.strip())
        if len(parts) > 1 and len(parts[-1]) <= 40:
            names.append(parts[-1])
    return names


class DocOrder:
    """Document-order index of elements, computed cheaply: the body's elements by walking
    the body once, anything else (bylines, embeds, captions) on request with one XPath
    count. Offers ``get(el, default)`` like the dict it stands in for."""

    _COUNT = etree.XPath("count(preceding::*) + count(ancestor::*)")

    def __init__(self, body: lxml_html.HtmlElement | None) -> None:
        self._memo: dict[lxml_html.HtmlElement, int] = {}
        if body is not None:
            base = self._position(body)
            for i, el in enumerate(body.iter()):
                self._memo[el] = base + i

    def _position(self, el: lxml_html.HtmlElement) -> int:
        try:
            return int(self._COUNT(el))
        except (etree.XPathError, TypeError, ValueError):
            return 0

    def get(self, el: lxml_html.HtmlElement, default: int = 0) -> int:
        pos = self._memo.get(el)
        if pos is None:
            pos = self._memo[el] = self._position(el) if el is not None else default
        return pos


def _in_embed(el: lxml_html.HtmlElement, stop: lxml_html.HtmlElement) -> bool:
    node = el
    while node is not None:
        if tag_of(node) == "blockquote" and _EMBED_CLASSES.search(node.get("class") or ""):
            return True
        if node is stop:
            return False
        node = node.getparent()
    return False


def _blockquotes(blocks: list[Block], body: lxml_html.HtmlElement | None
                 ) -> tuple[set[int], list[Found]]:
    """Block quotations (not social embeds): speaker from a signature line, a <cite>, or a
    "X said:" lead-in right before. Their blocks are then left out of the prose scan
    unless they carry quote marks of their own."""
    taken: set[int] = set()
    rows: list[Found] = []
    if body is None:
        return taken, rows
    known: list[Speaker] = []
    by_el: dict[int, list[Block]] = {}
    owner: dict[int, lxml_html.HtmlElement] = {}
    for b in blocks:
        if not b.in_blockquote:
            continue
        node = b.el
        while node is not None and tag_of(node) != "blockquote":
            node = node.getparent()
        if node is None:
            continue
        by_el.setdefault(id(node), []).append(b)
        owner[id(node)] = node
    for key, bq_blocks in by_el.items():
        bq = owner[key]
        text = "\n".join(b.text for b in bq_blocks)
        speaker: Speaker | None = None
        cite = bq.find(".//cite")
        sig_text = None
        if cite is not None:
            sig_text = clean_space(cite.text_content())
        else:
            for f in bq.iter("footer", "figcaption"):
                sig_text = clean_space(f.text_content())
        if sig_text:
            sig = sig_text.lstrip("—–- ").strip()
            m = re.match(r"(?P<who>[^,]+)(?:,\s*(?P<role>.+))?$", sig)
            if m:
                speaker = parse_speaker(m.group("who"), m.group("role"), known)
            text = "\n".join(b.text for b in bq_blocks if clean_space(b.text) != sig_text)
        if speaker is None:
            speaker, text = blockquote_speaker(text, known)
        if speaker is None:
            prev = _previous_block(blocks, bq_blocks[0])
            if prev is not None:
                from aggregator.extract.attr_quotes import _intro_speaker
                speaker = _intro_speaker(prev.text, known)
        if speaker is not None and speaker.name.startswith("\x00"):
            speaker = known[-1] if known else None  # "he said:" before a block quotation
        if speaker is None:
            continue
        qtext = clean_space(text).strip("“”\"„ ")
        if len(qtext.split()) < 3:
            continue
        known.append(speaker)
        rows.append(Found("quote", speaker.name, None, speaker.role, qtext,
                          (bq_blocks[0].order, 0)))
        taken.update(id(b) for b in bq_blocks)
    return taken, rows


_SYNDICATION_XPATH = (
    ".//text()[contains(., 'riginally') or contains(., 'epublished') or "
    "contains(., 'eprinted') or contains(., 'irst appeared')]")
_SYNDICATION = re.compile(r"originally (?:published|appeared|ran|posted)|(?:republished|"
                          r"reprinted)\b.{0,40}\b(?:from|by|with)|first appeared", re.I)


def _syndication_notes(root: lxml_html.HtmlElement, body: lxml_html.HtmlElement | None,
                       url: str, order: Order) -> list[Block]:
    """"This story was originally published by X" lines that sit just outside the body."""
    out: list[Block] = []
    seen: set[lxml_html.HtmlElement] = set()
    cache = ClutterCache()
    scope = root
    if body is not None:  # the note sits next to the body: look two levels up, not everywhere
        up = body.getparent()
        scope = up.getparent() if up is not None and up.getparent() is not None else (
            up if up is not None else root)
    for node in scope.xpath(_SYNDICATION_XPATH):
        el = node.getparent()
        while el is not None and tag_of(el) not in ("p", "div", "section", "aside", "footer",
                                                     "li", "article", "body"):
            el = el.getparent()
        if el is None or el in seen or tag_of(el) in ("body", "article"):
            continue
        seen.add(el)
        if body is not None and (el is body or any(a is body for a in el.iterancestors())):
            continue  # already read with the body
        if cache.inside(el) and not _only_footer_clutter(el):
            continue
        text, links = own_text(el, url)
        if len(text) > 400 or not _SYNDICATION.search(text):
            continue
        out.append(Block(el, text, links, order.get(el, 0)))
    return out


def _only_footer_clutter(el: lxml_html.HtmlElement) -> bool:
    """An article footer ("entry-footer") may carry the note; a site footer or nav may not."""
    node: lxml_html.HtmlElement | None = el
    while node is not None:
        if is_clutter_element(node):
            names = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
            if tag_of(node) in ("nav", "aside", "menu") or "site" in names or \
                    "related" in names or "sidebar" in names or "comment" in names:
                return False
        node = node.getparent()
    return True


def _person_like(name: str) -> bool:
    """A multi-word speaker name without organisation marks ("Kestrel UK" is not)."""
    toks = name.split()
    return len(toks) >= 2 and not any(
        (t.isupper() and len(t) > 1) or t.lower().strip(".") in CORP_WORDS for t in toks)


def _previous_block(blocks: list[Block], first: Block) -> Block | None:
    prev = None
    for b in blocks:
        if b is first:
            return prev
        prev = b
    return None


def _finish(found: list[Found]) -> tuple[Attribution, ...]:
    found.sort(key=lambda f: (f.order[0], f.order[1]))
    out: list[Attribution] = []
    seen: set[tuple[str, str, str | None, str | None, str | None]] = set()
    for f in found:
        name = clean_space(f.name)
        if not name:
            continue
        if f.kind == "quote":
            extra = clean_space(f.text or "")
        elif f.kind == "credit":
            extra = f.details.get("image") or clean_space(f.text or "")
        else:
            extra = None
        key = (f.kind, name.casefold(), f.url, extra, f.role)
        if key in seen:
            continue
        seen.add(key)
        out.append(Attribution(
            kind=f.kind, name=name, url=f.url, role=f.role,
            text=clean_space(f.text) if f.text else None, position=len(out),
            details=tuple(sorted((k, v) for k, v in f.details.items() if v)),
        ))
    return tuple(out)
