"""extract_article: one page in, one Article out (or NoArticle with its reason)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from lxml.html import HtmlElement

from aggregator.errors import NoArticle
from aggregator.extract.authors import clean_authors
from aggregator.extract.body import BodyResult, extract_body
from aggregator.extract.dates import parse_date
from aggregator.extract.metadata import Metadata, clean_title, extract_metadata
from aggregator.extract.parse import parse_document
from aggregator.extract.rules import matching_rules, select
from aggregator.models import Article, Attribution, Entry, SiteRule

FindAttributions = Callable[..., tuple[Attribution, ...]]
try:
    from aggregator.extract.attribution import find_attributions as _find_attributions
except ImportError:  # the attribution module is written separately
    _find_attributions = None
_attribution_hook: FindAttributions | None = _find_attributions

#: Below this many characters of body text a page has no article.
MIN_TEXT = 25
#: A page with a paragraph this long is an article even when it also lists other stories.
LONG_PARAGRAPH = 300
#: Below this many, a page with a video (or an index / error page) has no article.
SHORT_TEXT = 150
#: A declared article's one visible paragraph this long (a paywalled story's first
#: sentence) is kept even on a page full of related links.
PAYWALL_SENTENCE = 80
_ERROR_TITLE = re.compile(
    r"\b(?:404|410|not found|page not found|seite nicht gefunden|nicht gefunden|"
    r"page introuvable|error|fehler|oops)\b", re.I)
_VIDEO = '//video|//iframe[contains(@src, "youtube") or contains(@src, "vimeo") or ' \
    'contains(@src, "player") or contains(@src, "video")]'


def extract_article(html: str | bytes, url: str, *, rules: Sequence[SiteRule] = (),
                    entry: Entry | None = None, header_charset: str | None = None) -> Article:
    """Extract the article of one page. Raises NoArticle (with a reason) and nothing else."""
    try:
        return _extract(html, url, rules, entry, header_charset)
    except NoArticle:
        raise
    except RecursionError:
        raise NoArticle("document too deeply nested", url=url) from None
    except Exception as exc:  # noqa: BLE001 - translate everything at the boundary
        raise NoArticle(f"extraction failed: {type(exc).__name__}: {exc}", url=url) from None


def _extract(html: str | bytes, url: str, rules: Sequence[SiteRule], entry: Entry | None,
             header_charset: str | None) -> Article:
    if html is None or len(html) == 0:
        raise NoArticle("empty document", url=url)
    root = parse_document(html, url, header_charset=header_charset)
    meta = extract_metadata(root, url)
    site_rules = matching_rules(rules, url)
    rule_body: list[HtmlElement] = []
    drop: list[HtmlElement] = []
    for rule in site_rules:
        rule_body.extend(select(root, rule.body))
        drop.extend(select(root, rule.drop))
        _apply_meta_rules(root, rule, meta)
    body = extract_body(root, url, title=meta.title, drop=drop, rule_body=rule_body)
    body = _prefer_jsonld_body(body, meta)
    text = body.text
    _check_article(root, meta, body, text, url)

    title = meta.title or (entry.title if entry and entry.title else None)
    if not title:
        first_heading = next((b.text for b in body.blocks if b.kind.startswith("h")), None)
        title = first_heading or ""
    published = meta.published or (entry.published if entry else None)
    authors = meta.authors or (clean_authors(list(entry.authors)) if entry else ())
    summary = _summary(meta.description, body)
    attributions = _attributions(root, body.element, url, authors)
    return Article(
        url=url, title=title, text=text, html=body.html,
        canonical_url=meta.canonical_url or url, amp_url=meta.amp_url,
        authors=authors, published=published, modified=meta.modified, language=meta.language,
        summary=summary, site_name=meta.site_name, image=meta.image, section=meta.section,
        tags=meta.tags, attributions=attributions,
    )


def _apply_meta_rules(root: HtmlElement, rule: SiteRule, meta: Metadata) -> None:
    if rule.title:
        found = select(root, rule.title)
        if found:
            text = " ".join(found[0].text_content().split())
            if text:
                meta.title = clean_title(text, site_name=meta.site_name)
    if rule.author:
        values = [" ".join(el.text_content().split()) for el in select(root, rule.author)]
        names = clean_authors([v for v in values if v], site_name=meta.site_name)
        if names:
            meta.authors = names
    if rule.date:
        for el in select(root, rule.date):
            dt: datetime | None = parse_date(
                el.get("datetime") or el.get("content") or el.text_content())
            if dt is not None:
                meta.published = dt
                break


def _prefer_jsonld_body(body: BodyResult, meta: Metadata) -> BodyResult:
    """When the page text is much shorter than the JSON-LD articleBody, trust articleBody."""
    ld = meta.article_body
    if not ld:
        return body
    ld = ld.strip()
    if len(ld) < 400 or len(body.text) >= 0.6 * len(ld):
        return body
    from aggregator.extract.body import Block, unescape_twice_escaped

    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\r\n|\n", ld)]
    blocks = [Block("p", p, _escape(p)) for p in paras if p]
    return BodyResult(body.element, unescape_twice_escaped(blocks))


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def _check_article(root: HtmlElement, meta: Metadata, body: BodyResult, text: str,
                   url: str) -> None:
    title = meta.raw_title or meta.title or ""
    if _ERROR_TITLE.search(title) and len(text) < 800:
        raise NoArticle("error page (not found)", url=url)
    declared_article = (meta.og_type or "").lower() == "article" or meta.is_article
    longest = max((len(b.text) for b in body.blocks if b.kind == "p"), default=0)
    if len(text) < SHORT_TEXT:
        # A page that declares itself an article and shows a sentence of it (the part a
        # paywall leaves) is that article, however many related links surround it.
        teaser = declared_article and longest >= PAYWALL_SENTENCE and text.rstrip().endswith(
            (".", "!", "?", "”", '"', "»"))
        if not teaser and _looks_like_index(root, url, len(text), min_linked=2):
            raise NoArticle("index page (list of article links)", url=url)
        if root.xpath(_VIDEO) or (meta.og_type or "").startswith("video"):
            raise NoArticle("video-only page (no article text)", url=url)
    if len(text) < MIN_TEXT:
        if not text:
            raise NoArticle("no article text found", url=url)
        raise NoArticle(f"too little article text ({len(text)} characters)", url=url)
    if not declared_article and body.element is not None and longest < LONG_PARAGRAPH and (
            _looks_like_index(body.element, url, len(text))
            or _parent_index(body.element, url, len(text))):
        raise NoArticle("index page (list of article links)", url=url)


def _parent_index(el: HtmlElement, url: str, chars: int) -> bool:
    """The chosen container is one teaser of a list: test the list around it."""
    teaser = any(_away(a.get("href"), url) for h in el.xpath(".//h2|.//h3|.//h4")
                 for a in (*h.iter("a"), *h.iterancestors("a")))
    parent = el.getparent()
    return teaser and parent is not None and _looks_like_index(parent, url, chars)


def _away(href: str | None, url: str) -> bool:
    href = (href or "").strip()
    return bool(href) and not href.startswith(("#", "javascript:")) and href.split("#")[0] != url


def _looks_like_index(el: HtmlElement, url: str, chars: int, min_linked: int = 3) -> bool:
    """Teaser lists: several headings that link to other pages, with little text each."""
    headings = el.xpath(".//h2|.//h3|.//h4")
    linked = 0
    for h in headings:
        text_len = len(h.text_content().strip())
        if any(_away(a.get("href"), url) for a in h.iterancestors("a")):
            linked += 1
            continue
        link_len = sum(len(a.text_content().strip()) for a in h.iter("a")
                       if _away(a.get("href"), url))
        if text_len and link_len >= 0.8 * text_len:
            linked += 1
    if linked < min_linked or linked < 0.5 * len(headings):
        return False
    return chars / linked < 600


def _summary(description: str | None, body: BodyResult) -> str | None:
    text = description
    if not text:
        text = next((b.text for b in body.blocks if b.kind == "p" and len(b.text) > 40), None)
    if not text:
        return None
    text = " ".join(text.split())
    if len(text) <= 300:
        return text
    cut = text[:299].rsplit(" ", 1)[0]
    return cut + "…"


def _attributions(root: HtmlElement, body_el: HtmlElement | None, url: str,
                  authors: tuple[str, ...]) -> tuple[Attribution, ...]:
    if _attribution_hook is not None:
        try:
            return tuple(_attribution_hook(root, body_el, url, authors))
        except Exception:  # noqa: BLE001 - attribution never costs us the article
            pass
    return tuple(Attribution(kind="author", name=name, position=i)
                 for i, name in enumerate(authors))
