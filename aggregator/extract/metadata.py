"""Page metadata from one parsed tree: <meta>, OpenGraph, JSON-LD, microdata, visible bylines."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

from aggregator.extract.authors import clean_authors, drop_extended
from aggregator.extract.dates import (
    date_from_url,
    parse_date,
    parse_date_zone,
    parse_date_zone_visible,
)
from aggregator.extract.parse import WITH_NAMING_ATTRS
from aggregator.models import Image

_WS = re.compile(r"\s+")
_ARTICLE_TYPES = re.compile(r"article|posting|report|newsarticle|blog|review|story|"
                            r"pressrelease|opinion|analysis|webpage|creativework", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|»|«|›|‹|/|:|•|~)\s+")


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


@dataclass
class Metadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    modified: datetime | None = None
    canonical_url: str | None = None
    amp_url: str | None = None  # <link rel="amphtml">: the page's AMP form
    language: str | None = None
    description: str | None = None
    site_name: str | None = None
    image: Image | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    og_type: str | None = None
    is_article: bool = False  # JSON-LD says Article/NewsArticle/BlogPosting/...
    article_body: str | None = None  # JSON-LD articleBody
    raw_title: str | None = None
    jsonld: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------- collection

def _meta_map(root: HtmlElement) -> dict[str, list[str]]:
    metas: dict[str, list[str]] = {}
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get(
            "http-equiv")
        content = meta.get("content")
        if not key or content is None:
            continue
        content = _clean(content)
        if not content:
            continue
        for k in key.lower().split():
            metas.setdefault(k, []).append(content)
    return metas


def _first(metas: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = metas.get(key)
        if values:
            return values[0]
    return None


def _walk_jsonld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in data and isinstance(data[key], (list, dict)):
                yield from _walk_jsonld(data[key], depth + 1)


def _types(obj: dict[str, Any]) -> list[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


# JSON-LD wrapped for old XHTML parsers: "<![CDATA[ ... ]]>", "//<![CDATA[", "<!-- ... -->"
_CDATA = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")


def _jsonld_objects(root: HtmlElement) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in root.xpath('//script[contains(translate(@type, "JSONLD", "jsonld"), '
                             '"ld+json")]'):
        raw = _CDATA.sub("", (script.text or "")).strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw.rstrip(";")), strict=False)
            except ValueError:
                continue
        out.extend(_walk_jsonld(data))
    return out


def _article_ld(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    best = None
    best_rank = 99
    for obj in objects:
        for t in _types(obj):
            low = t.lower()
            if low in ("newsarticle", "article", "blogposting", "reportagenewsarticle",
                       "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle",
                       "backgroundnewsarticle", "techarticle", "liveblogposting", "report",
                       "socialmediaposting", "scholarlyarticle", "review"):
                rank = 0
            elif _ARTICLE_TYPES.search(low) and low not in ("webpage", "creativework"):
                rank = 1
            elif low in ("webpage", "creativework", "itempage"):
                rank = 2
            else:
                continue
            if rank < best_rank:
                best, best_rank = obj, rank
    return best


def _ld_names(value: Any, *, organizations: bool = False) -> list[str]:
    """Names in a JSON-LD ``author``: people, or (``organizations``) only organisations."""
    if isinstance(value, str):
        return [] if organizations else [value]
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_ld_names(item, organizations=organizations))
        return out
    if isinstance(value, dict):
        if any(t.lower() in ("organization", "newsmediaorganization", "corporation")
               for t in _types(value)) != organizations:
            return []
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        if isinstance(name, list):
            return [n for n in name if isinstance(n, str)]
    return []


def _ld_str(value: Any) -> str | None:
    if isinstance(value, str):
        return _clean(value) or None
    if isinstance(value, list) and value:
        return _ld_str(value[0])
    if isinstance(value, dict):
        for key in ("name", "url", "@id"):
            if isinstance(value.get(key), str):
                return _clean(value[key]) or None
    return None


def _ld_image(value: Any) -> tuple[str | None, str | None, str | None]:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str):
        return value, None, None
    if isinstance(value, dict):
        url = value.get("url") or value.get("contentUrl") or value.get("@id")
        caption = value.get("caption") or value.get("description")
        credit = value.get("creditText") or value.get("copyrightHolder") or value.get(
            "author")
        return (url if isinstance(url, str) else None, _ld_str(caption), _ld_str(credit))
    return None, None, None


# --------------------------------------------------------------------------- title

def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _agrees(title: str, *others: str | None) -> bool:
    """True when ``title`` and one of ``others`` contain each other (or none is known)."""
    known = [_norm(o) for o in others if o]
    t = _norm(title)
    return not known or any(t in o or o in t for o in known if o)


def _pick_title(candidates: list[str | None], h1s: list[str]) -> str | None:
    """The first title candidate that agrees with a visible headline, else the first one.

    Metadata titles may differ from each other (an og:title written for sharing, a JSON-LD
    headline); the one that agrees with the visible ``<h1>`` is the page's. Short ``<h1>``
    texts (a logo, a section name) decide nothing.
    """
    known = [c for c in candidates if c]
    heads = [_norm(h) for h in h1s if len(_norm(h)) >= 12 and len(h.split()) >= 3]
    for cand in known:
        c = _norm(cand)
        if c and any(c in h or h in c or _mostly_same(c, h) for h in heads):
            return cand
    return known[0] if known else None


def _mostly_same(a: str, b: str) -> bool:
    """Two normalised titles that differ in a word or two ("Dropbox's ATF -" / "Dropbox ATF:")."""
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) >= 0.8 * min(len(wa), len(wb))


def clean_title(raw: str, *, site_name: str | None = None, h1: str | None = None) -> str:
    """Drop a " | Site Name" / "Site - " part of a page title."""
    raw = _clean(raw)
    if not raw:
        return raw
    if h1:
        h = _clean(h1)
        if h and _norm(h) == _norm(raw):
            return h
        if h and len(h) >= 10 and _norm(h) in _norm(raw) and len(h.split()) >= 3:
            return h
    parts = _TITLE_SEPARATORS.split(raw)
    if len(parts) < 2:
        return raw
    seps = _TITLE_SEPARATORS.findall(raw)
    site = _norm(site_name or "")
    if site:
        # Remove parts that are the site name, at either end.
        if _norm(parts[-1]) == site or (site in _norm(parts[-1]) and len(parts[-1]) < 40):
            return _join(parts[:-1], seps[:-1])
        if _norm(parts[0]) == site or (site in _norm(parts[0]) and len(parts[0]) < 40):
            return _join(parts[1:], seps[1:])
    # Unknown site: a short last part after " | " or " - " is usually the site.
    last = parts[-1]
    head = _join(parts[:-1], seps[:-1])
    # (a part starting in lower case continues the headline: "ATF - an async framework")
    if seps[-1].strip() in ("|", "-", "–", "—", "::", "·", "»", "«", "›", "•", "~") and not (
            last[:1].islower()) and (
            (len(last.split()) <= 4 and len(head.split()) >= 3)
            or (len(last.split()) <= 2 and len(head.split()) >= 2)):
        return head
    first = parts[0]
    if seps[0].strip() in ("|", "::", "»", "·") and len(first.split()) <= 3 and len(
            _join(parts[1:], seps[1:]).split()) >= 3:
        return _join(parts[1:], seps[1:])
    return raw


def _join(parts: list[str], seps: list[str]) -> str:
    out = parts[0]
    for sep, part in zip(seps, parts[1:], strict=False):
        out += sep + part
    return out.strip()


# --------------------------------------------------------------------------- bylines

# Byline candidates: elements with the attributes at all (one cheap XPath), then a regex
# over the class (the same elements as a contains() XPath, at a third of the cost).
_BYLINE_CLASS = re.compile(r"author|byline|Author|Byline")


def _byline_candidates(root: HtmlElement) -> list[HtmlElement]:
    return [el for el in WITH_NAMING_ATTRS(root)
            if el.tag not in ("meta", "link") and (
                el.get("rel") == "author" or el.get("itemprop") == "author"
                or el.get("id") in ("byline", "author")
                or _BYLINE_CLASS.search(el.get("class") or ""))]
_BYLINE_TOKEN = re.compile(r"byline|author|posted-?by|autor", re.I)
_BYLINE_BAD = re.compile(r"bio|box|avatar|image|img|photo|pic|desc|about|more|follow|social|"
                         r"title|date|time|icon|comment|related|recirc|card|teaser", re.I)


def _is_byline(el: HtmlElement) -> bool:
    if el.get("rel") == "author" or el.get("itemprop") == "author" or el.get("id") in (
            "byline", "author"):
        return True
    return any(_BYLINE_TOKEN.search(c) and not _BYLINE_BAD.search(c)
               for c in (el.get("class") or "").split())


def _byline_text(el: HtmlElement) -> str | None:
    if el.get("itemprop") == "author":
        name = el.find('.//*[@itemprop="name"]')
        if name is not None:
            return _clean(name.get("content") or name.text_content())
    text = _clean(_text_skipping(el, _is_byline_extra))
    return text if text and len(text) < 120 else None


_BYLINE_EXTRA = re.compile(r"title|role|job|position|date|time|bio|desc", re.I)


def _is_byline_extra(el: HtmlElement) -> bool:
    """A part of a byline that is not a name: the author's job title, the date, a bio."""
    if el.tag in ("time", "script", "style"):
        return True
    return any(_BYLINE_EXTRA.search(c) for c in (el.get("class") or "").split())


def _text_skipping(el: HtmlElement, skip: Callable[[HtmlElement], bool]) -> str:
    """``el.text_content()`` without the subtrees ``skip`` picks out (their tails kept)."""
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        if isinstance(node.tag, str) and (node is el or not skip(node)):
            parts.append(node.text or "")
            for child in node:
                walk(child)
        if node is not el:
            parts.append(node.tail or "")

    walk(el)
    return "".join(parts)


def _visible_bylines(root: HtmlElement, site_name: str | None = None) -> tuple[str, ...]:
    """Names from the first byline on the page, plus bylines right beside it (same parent or
    grandparent); bylines of related stories further down are not the author's."""
    first: HtmlElement | None = None
    names: list[str] = []
    candidates = [el for el in _byline_candidates(root) if _is_byline(el)]
    if len(candidates) > 1:
        candidates = _from_headline(root, candidates)
    for el in candidates:
        if first is not None and (not _near(first, el) or _story_between(first, el)):
            break
        text = _byline_text(el)
        found = clean_authors([text], site_name=site_name) if text else ()
        if not found:
            continue
        if first is None:
            first = el
        names.extend(n for n in found if n not in names)
    return drop_extended(names)


def _from_headline(root: HtmlElement, candidates: list[HtmlElement]) -> list[HtmlElement]:
    """Candidates from the byline right under the headline on: a byline within a few
    elements after the page's ``<h1>`` signs the story, whatever comes earlier in the
    document (comment signatures, the stories of a page shown behind an overlay)."""
    h1 = next((h for h in root.iter("h1") if len(h.text_content().split()) >= 3), None)
    if h1 is None:
        return candidates
    wanted = {el: i for i, el in enumerate(candidates)}
    for el in _NEXT_ELEMENTS(h1):  # document order, the h1's own subtree excluded
        if el in wanted:
            return candidates[wanted[el]:]
    return candidates


#: How many elements after the headline a byline may sit to be taken as the story's own.
BYLINE_AFTER_HEADLINE = 60
_NEXT_ELEMENTS = etree.XPath(f"following::*[position() <= {BYLINE_AFTER_HEADLINE}]")


def _story_between(a: HtmlElement, b: HtmlElement) -> bool:
    """True when a paragraph of prose lies between bylines ``a`` and ``b``: ``b`` signs the
    next story of a page that lists several (a weekly edition, a live page), not ``a``'s."""
    prose = _NEXT_PROSE(a)
    return bool(prose) and bool(_PRECEDES(b, p=prose[0]))


# the first paragraph of prose after an element; whether a given node comes before one
_NEXT_PROSE = etree.XPath("following::p[string-length(normalize-space(.)) > 200][1]")
_PRECEDES = etree.XPath("count(preceding::p | $p) = count(preceding::p)")


def _near(a: HtmlElement, b: HtmlElement) -> bool:
    pa, pb = a.getparent(), b.getparent()
    if pa is None or pb is None:
        return False
    if pa is pb or b in a.iterdescendants() or a in b.iterdescendants():
        return True
    ga, gb = pa.getparent(), pb.getparent()
    return ga is not None and ga is gb


# --------------------------------------------------------------------------- assembly

# Dublin Core first: a deliberate metadata vocabulary, where a plain "author" meta is often
# a CMS account or the site.
_AUTHOR_METAS = ("dc:creator", "dcterms.creator", "dc.creator", "author", "article:author",
                 "og:article:author", "byl", "sailthru.author", "parsely-author")


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def extract_metadata(root: HtmlElement, url: str) -> Metadata:
    metas = _meta_map(root)
    objects = _jsonld_objects(root)
    ld = _article_ld(objects) or {}
    is_article = bool(ld) and any(
        t.lower() not in ("webpage", "creativework", "itempage") for t in _types(ld))
    md = Metadata(jsonld=objects, is_article=is_article)

    # site name
    site = _first(metas, "og:site_name", "application-name", "twitter:site")
    if not site and isinstance(ld.get("publisher"), dict):
        site = _ld_str(ld["publisher"].get("name"))
    if site and site.startswith("@"):
        site = None
    md.site_name = site

    # title
    title_el = root.find(".//title")
    page_title = _clean(title_el.text_content()) if title_el is not None else ""
    h1s = root.xpath("//h1")
    h1 = _clean(h1s[0].text_content()) if len(h1s) >= 1 else None
    headline = _ld_str(ld.get("headline"))
    if headline and page_title and h1 and _agrees(page_title, h1) and not _agrees(
            headline, page_title, h1):
        headline = None  # <title> and <h1> agree on another title: a description, not it
    social = _first(metas, "og:title", "twitter:title")
    doc_title = _norm(page_title)
    if headline and social and doc_title and _norm(headline) in doc_title and (
            _norm(social) not in doc_title):
        social = None  # the document's own title and headline agree; the sharing title differs
    raw = _pick_title([_first(metas, "dc:title", "dcterms.title", "dc.title"), social,
                       headline, _first(metas, "parsely-title"), page_title],
                      [_clean(h.text_content()) for h in h1s[:3]]) or h1 or ""
    md.raw_title = page_title or raw
    title = clean_title(raw, site_name=site, h1=h1)
    if not title and h1:
        title = h1
    md.title = title or None

    # canonical
    canonical = None
    for link in root.iter("link"):
        if (link.get("rel") or "").lower().strip() == "canonical" and link.get("href"):
            canonical = link.get("href").strip()
            break
    canonical = canonical or _first(metas, "og:url") or _ld_str(ld.get("url"))
    if canonical and not canonical.startswith(("javascript:", "data:")):
        md.canonical_url = urljoin(url, canonical)
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "amphtml" in rels and href and not href.startswith(("javascript:", "data:")):
            with contextlib.suppress(ValueError):
                md.amp_url = urljoin(url, href)
            break

    # language
    html_el = root if root.tag == "html" else root.getroottree().getroot()
    lang = html_el.get("lang") or html_el.get("{http://www.w3.org/XML/1998/namespace}lang")
    lang = lang or _first(metas, "content-language", "og:locale", "language", "dc.language")
    lang = lang or _ld_str(ld.get("inLanguage"))
    if lang:
        # The primary subtag: "en-US" -> "en", "de_DE" -> "de".
        primary = re.split(r"[-_,;\s]", lang.strip())[0].lower()
        md.language = primary if primary.isalpha() and 2 <= len(primary) <= 3 else None

    # description
    md.description = _first(metas, "description", "og:description", "twitter:description") or (
        _ld_str(ld.get("description")))

    # authors
    md.authors = clean_authors(_ld_names(ld.get("author")), site_name=site)
    for key in _AUTHOR_METAS:  # the first meta that names someone (they may disagree)
        if md.authors:
            break
        md.authors = clean_authors([v for v in metas.get(key, []) if not _is_url(v)],
                                   site_name=site)
    if not md.authors:
        md.authors = _visible_bylines(root, site)
    if not md.authors:  # an organisation the JSON-LD names as author (not the site itself)
        publisher = ld.get("publisher")
        names = [n for n in _ld_names(ld.get("author"), organizations=True)
                 if not (isinstance(publisher, dict) and _norm(n) == _norm(
                     _ld_str(publisher.get("name")) or ""))]
        md.authors = clean_authors(names, site_name=site)
    if not md.authors and site:
        # Nobody signs the story and its author fields name the outlet itself ("BBC News"):
        # then the outlet really is the author.
        stated = [*_ld_names(ld.get("author")), *_ld_names(ld.get("author"), organizations=True),
                  *(v for key in _AUTHOR_METAS for v in metas.get(key, []))]
        if any(_norm(v) == _norm(site) for v in stated):
            md.authors = (site,)

    # dates
    md.published = _published(root, url, metas, ld)
    md.modified = parse_date(_ld_str(ld.get("dateModified"))) or parse_date(
        _first(metas, "article:modified_time", "og:updated_time", "datemodified",
               "last-modified", "dc.date.modified"))

    # image
    img, caption, credit = _ld_image(ld.get("image"))
    og_image = _first(metas, "og:image", "og:image:url", "og:image:secure_url", "twitter:image",
                      "twitter:image:src")
    image_url = og_image or img
    if image_url:
        md.image = Image(urljoin(url, image_url), caption or _first(metas, "og:image:alt"),
                         credit)

    # section, tags
    md.section = _first(metas, "article:section", "section", "parsely-section") or _ld_str(
        ld.get("articleSection"))
    tags: list[str] = list(metas.get("article:tag", []))
    if not tags:
        kw = ld.get("keywords") or _first(metas, "news_keywords", "keywords", "parsely-tags")
        if isinstance(kw, list):
            tags = [k for k in kw if isinstance(k, str)]
        elif isinstance(kw, str):
            tags = [k.strip() for k in kw.split(",")]
    md.tags = tuple(dict.fromkeys(t for t in (_clean(x) for x in tags) if t))[:30]
    md.og_type = _first(metas, "og:type")
    body = ld.get("articleBody")
    md.article_body = body if isinstance(body, str) else None
    return md


_PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished",
                   "publishdate", "pubdate", "publish-date", "parsely-pub-date", "sailthru.date",
                   "dc.date.issued", "dc.date", "dcterms.created", "date", "article.published",
                   "published_time", "og:article:published_time", "cxenseparse:recs:publishtime")


def _published(root: HtmlElement, url: str, metas: dict[str, list[str]],
               ld: dict[str, Any]) -> datetime | None:
    """The publication date: JSON-LD, then meta tags, <time>, a visible dateline, the URL.
    A machine date without a zone takes the zone of a visible date with the same wall time."""
    candidates = [_ld_str(ld.get("datePublished")), _first(metas, *_PUBLISHED_META)]
    found, explicit = None, False
    for value in candidates:
        found, explicit = parse_date_zone(value)
        if found is not None:
            break
    if found is not None and explicit:
        return found  # a machine date with its zone: nothing on the page can add to it
    visible = _visible_dates(root)
    if found is None:
        for dt, _zone in visible:
            found = dt
            break
    if found is None:
        found = date_from_url(url) or parse_date(_ld_str(ld.get("dateCreated")))
    else:
        wall = found.replace(tzinfo=None)
        for dt, zoned in visible:
            if zoned and (dt.replace(tzinfo=None) == wall or (
                    wall.time() == datetime.min.time() and dt.date() == wall.date())):
                return dt
    return found


def _visible_dates(root: HtmlElement) -> list[tuple[datetime, bool]]:
    """Dates in <time datetime>, itemprop=datePublished and dateline elements, in order."""
    out: list[tuple[datetime, bool]] = []
    for el in root.xpath('//time[@datetime]|//*[@itemprop="datePublished"]')[:5]:
        value = el.get("datetime") or el.get("content") or el.text_content()
        dt, zoned = parse_date_zone(value)
        if dt is not None:
            out.append((dt, zoned))
    for el in _DATELINE_XPATH(root)[:10]:
        text = _clean(el.text_content())
        if text and len(text) < 120:
            dt, zoned = parse_date_zone_visible(text)
            if dt is not None:
                out.append((dt, zoned))
    return out


_DATELINE_XPATH = etree.XPath(
    '//*[contains(@class, "date") or contains(@class, "posted-on") or '
    'contains(@class, "published") or contains(@class, "time")][not(self::html or self::body)]')


