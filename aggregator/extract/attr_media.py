"""Embedded social posts, photo credits and bylines."""

from __future__ import annotations

import json
import re
from itertools import islice
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from aggregator.extract.attr_sources import Found
from aggregator.extract.attr_text import (
    CORP_WORDS,
    ClutterCache,
    HtmlElement,
    Order,
    absolute,
    clean_space,
    host_of,
    tag_of,
)
from aggregator.extract.parse import WITH_NAMING_ATTRS

# ---------------------------------------------------------------------------- embeds

_TWEET_URL = re.compile(r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?P<h>\w{1,30})/status"
                        r"(?:es)?/(?P<id>\d+)")
_IG_URL = re.compile(r"https?://(?:www\.)?instagram\.com/(?:(?P<h>[\w.]+)/)?(?:p|reel|tv)/"
                     r"(?P<id>[\w-]+)")
_YT_ID = re.compile(r"(?:youtube(?:-nocookie)?\.com/(?:embed|v|shorts)/|youtu\.be/)"
                    r"(?P<id>[\w-]{6,})")
_MASTO_URL = re.compile(r"https?://(?P<host>[\w.-]+)/@(?P<user>\w+)(?:@(?P<inst>[\w.-]+))?/"
                        r"(?P<id>\d+)")
_HANDLE_IN_TEXT = re.compile(r"\(@(?P<h>\w{1,30})\)")
_MONTH_DATE = re.compile(r"(?:January|February|March|April|May|June|July|August|September|"
                         r"October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|"
                         r"Nov|Dec)\.?\s+\d{1,2},\s+\d{4}")


def _details(**kw: str | None) -> dict[str, str]:
    return {k: v for k, v in kw.items() if v}


def find_embeds(root: HtmlElement, base: str, cache: ClutterCache,
                order: Order) -> list[Found]:
    rows: list[Found] = []
    seen: set[str] = set()
    for el in root.iter("blockquote", "iframe", "div", "lite-youtube"):
        row = _embed(el, base)
        if row is None or _hard_clutter(el, cache):
            continue
        key = row.url or f"{row.role}:{row.name}:{row.text}"
        if key in seen:
            continue
        seen.add(key)
        row.order = (order.get(el, 0), 0)
        rows.append(row)
    return rows


def _hard_clutter(el: HtmlElement, cache: ClutterCache) -> bool:
    node: HtmlElement | None = el
    while node is not None:
        tag = tag_of(node)
        if tag in ("nav", "footer", "aside"):
            return True
        names = f"{node.get('class') or ''} {node.get('id') or ''}"
        if _HARD_CLUTTER.search(names):
            return True
        node = node.getparent()
    return False


_HARD_CLUTTER = re.compile(r"sidebar|related|recommend|comment|footer|author-box|author-bio|"
                           r"newsletter|widget|promo|trending|popular", re.I)
_AUTHOR_CLUTTER = re.compile(r"related|recommend|sidebar|comment|trending|popular|more-stories|"
                             r"promo|widget|newsletter|teaser", re.I)


def _embed(el: HtmlElement, base: str) -> Found | None:
    tag = tag_of(el)
    cls = (el.get("class") or "").lower()
    if tag == "blockquote" and ("twitter-tweet" in cls or "twitter-video" in cls
                                or "x-post" in cls):
        return _tweet(el, base)
    if tag == "blockquote" and "instagram-media" in cls:
        return _instagram(el, base)
    if tag == "blockquote" and ("mastodon-embed" in cls or el.get("data-embed-url")):
        return _mastodon_blockquote(el, base)
    if tag == "blockquote" and "bluesky-embed" in cls:
        return _generic_blockquote(el, base, "bluesky")
    if tag == "blockquote" and "tiktok-embed" in cls:
        return _generic_blockquote(el, base, "tiktok")
    if tag == "blockquote" and "text-post-media" in cls:
        return _generic_blockquote(el, base, "threads")
    if tag == "iframe":
        return _iframe(el, base)
    if (tag == "div" and "lite-youtube" in cls) or tag == "lite-youtube":
        vid = el.get("videoid") or el.get("data-id")
        if vid:
            return Found("embed", el.get("data-channel") or el.get("title") or "YouTube",
                         f"https://www.youtube.com/watch?v={vid}", "youtube",
                         el.get("title"), (0, 0))
    return None


def _tweet(el: HtmlElement, base: str) -> Found | None:
    url = handle = None
    date = None
    for a in el.iter("a"):
        href = absolute(base, a.get("href")) or ""
        m = _TWEET_URL.match(href)
        if m:
            url = href.split("?")[0]
            handle = "@" + m.group("h")
            date = clean_space(a.text_content()) or None
    p = el.find(".//p")
    text = clean_space(p.text_content()) if p is not None else None
    full = clean_space(el.text_content())
    display = None
    m = re.search(r"[—–-]\s*(?P<d>[^()—–]+?)\s*\(@(?P<h>\w+)\)", full)
    if m:
        display = m.group("d").strip()
        handle = handle if handle and handle[1:].lower() == m.group("h").lower() \
            else "@" + m.group("h")
    elif handle is None:
        m2 = _HANDLE_IN_TEXT.search(full)
        if m2:
            handle = "@" + m2.group("h")
    if handle is None:
        return None
    return Found("embed", handle, url, "x", text, (0, 0), _details(display_name=display,
                                                                   date=date))


def _instagram(el: HtmlElement, base: str) -> Found | None:
    url = el.get("data-instgrm-permalink") or ""
    url = url.split("?")[0] or None
    handle = display = date = text = None
    full = clean_space(el.text_content())
    m = re.search(r"(?:A post shared by|Ein Beitrag geteilt von|shared by)\s+(?P<d>[^()@]+?)?"
                  r"\s*\(?@(?P<h>[\w.]+)\)?", full)
    if m:
        handle = "@" + m.group("h").rstrip(".")
        display = (m.group("d") or "").strip() or None
    for a in el.iter("a"):
        href = absolute(base, a.get("href")) or ""
        if url is None and _IG_URL.match(href):
            url = href.split("?")[0]
        mh = re.match(r"https?://(?:www\.)?instagram\.com/([\w.]+)/?$", href)
        if handle is None and mh and mh.group(1) not in ("p", "reel", "explore"):
            handle = "@" + mh.group(1)
    if handle is None and url:
        mu = _IG_URL.match(url)
        if mu and mu.group("h"):
            handle = "@" + mu.group("h")
    t = el.find(".//time")
    if t is not None:
        date = t.get("datetime") or clean_space(t.text_content()) or None
    ps = [clean_space(p.text_content()) for p in el.iter("p")]
    ps = [p for p in ps if p and not re.match(r"(?:A post shared by|View this post)", p)]
    text = ps[0] if ps else None
    if handle is None and url is None:
        return None
    return Found("embed", handle or "instagram", url, "instagram", text, (0, 0),
                 _details(display_name=display, date=date))


def _mastodon_blockquote(el: HtmlElement, base: str) -> Found | None:
    url = el.get("data-embed-url") or ""
    url = re.sub(r"/embed/?$", "", url) or None
    for a in el.iter("a"):
        href = absolute(base, a.get("href")) or ""
        if _MASTO_URL.match(href):
            url = url or href
    if not url:
        return None
    m = _MASTO_URL.match(url)
    handle = f"@{m.group('user')}@{m.group('inst') or m.group('host')}" if m else None
    full = clean_space(el.text_content())
    display = None
    md = re.search(r"(?:Post by|by)\s+(?P<d>[^@]+?)\s*@", full)
    if md:
        display = md.group("d").strip()
    date = None
    t = el.find(".//time")
    if t is not None:
        date = t.get("datetime") or clean_space(t.text_content())
    ps = [clean_space(p.text_content()) for p in el.iter("p")]
    ps = [p for p in ps if p and not p.lower().startswith(("post by", "view on mastodon"))]
    return Found("embed", handle or host_of(url), url, "mastodon", ps[0] if ps else None,
                 (0, 0), _details(display_name=display, date=date))


def _generic_blockquote(el: HtmlElement, base: str, platform: str) -> Found | None:
    url = el.get("cite") or el.get("data-bluesky-uri") or None
    handle = None
    for a in el.iter("a"):
        href = absolute(base, a.get("href")) or ""
        m = re.search(r"/(?:profile/|@)([\w.-]+)", href)
        if m and handle is None:
            handle = "@" + m.group(1)
        if url is None and re.search(r"/(?:post|video|p)/", href):
            url = href
    if handle is None:
        return None
    p = el.find(".//p")
    text = clean_space(p.text_content()) if p is not None else None
    return Found("embed", handle, url, platform, text, (0, 0))


def _caption_channel(el: HtmlElement) -> str | None:
    """"Video: Kestrel Optics on YouTube" in the embed's figcaption."""
    node: HtmlElement | None = el
    for _ in range(4):
        if node is None:
            return None
        if tag_of(node) == "figure":
            cap = node.find(".//figcaption")
            if cap is None:
                return None
            m = re.search(r"(?:Video|Via|Source|Credit)?\s*:?\s*(?P<ch>[^:]+?)\s+(?:on|via)\s+"
                          r"YouTube", clean_space(cap.text_content()), re.I)
            return m.group("ch").strip() if m else None
        node = node.getparent()
    return None


def _iframe(el: HtmlElement, base: str) -> Found | None:
    src = absolute(base, el.get("src") or el.get("data-src") or el.get("data-lazy-src")) or ""
    title = clean_space(el.get("title") or "") or None
    m = _YT_ID.search(src)
    if m:
        name = el.get("data-channel") or el.get("data-author") or _caption_channel(el) or \
            title or "YouTube"
        return Found("embed", name, f"https://www.youtube.com/watch?v={m.group('id')}",
                     "youtube", title, (0, 0))
    if "youtube.com/embed" in src and "list=" in src:
        lst = parse_qs(urlsplit(src).query).get("list", [""])[0]
        return Found("embed", title or "YouTube",
                     f"https://www.youtube.com/playlist?list={lst}", "youtube", title, (0, 0))
    m = _MASTO_URL.match(src)
    if m and (src.rstrip("/").endswith("/embed") or "mastodon" in (el.get("class") or "")):
        url = re.sub(r"/embed/?$", "", src)
        handle = f"@{m.group('user')}@{m.group('inst') or m.group('host')}"
        return Found("embed", handle, url, "mastodon", title, (0, 0))
    m = re.search(r"player\.vimeo\.com/video/(\d+)", src)
    if m:
        return Found("embed", title or "Vimeo", f"https://vimeo.com/{m.group(1)}", "vimeo",
                     title, (0, 0))
    m = re.search(r"platform\.twitter\.com/embed/Tweet\.html\?.*\bid=(\d+)", src)
    if m:
        return None
    return None


# ---------------------------------------------------------------------------- credits

_CREDIT = re.compile(
    r"(?:^|[\s(\[|—–-])(?P<label>Photo(?:graph|graphy)?s?\s+(?:by|credit|courtesy(?:\s+of)?)|"
    r"(?:Image|Picture|Header image|Lead image|Top image|Cover image|Main image|Hero image|"
    r"Feature image|Featured image|Photo|Video)\s+credits?|Credits?|Photos?|Photograph|"
    r"Images?|Pictures?|Foto|Bild|Fotos|Illustration(?:\s+by)?|Courtesy(?:\s+of)?|"
    r"All (?:photos|images)|Source|Screenshot|Screengrab)\s*(?::|by\b|(?<=by)|(?<=of)|"
    r"(?<=credit)(?=\s*(?-i:[A-Z]))|(?<=courtesy))\s*"
    r"(?P<who>[^)\]\n|;]{2,90})", re.I)
_COPY = re.compile(r"(?:©|\(c\)|copyright)\s*(?:\d{4}\s+)?(?P<who>[^)\]\n|;,]{2,80})", re.I)


_CREDIT_WORDS = ("credit", "caption", "photographer")
# cheap prefilters (XPath contains() is case-sensitive: the first letter is left out)
# Elements that may hold a credit or a byline, found by one cheap XPath (elements with the
# attributes at all) and a regex over the attribute values: the same elements, in document
# order, as a long XPath of contains() tests, at a third of the cost.
_FIGCAPTION_OR_CLASS = etree.XPath("//figcaption | //*[@class]")
_CREDIT_CLASS = re.compile(r"redit|aption|hotographer")
_BYLINE_NAME = re.compile(r"yline|y-line|uthor|riter|ontributor|osted-by|meta|redits")
_BY_TOKEN = re.compile(r"(?:^| )[Bb]y(?: |$)")


def _credit_elements(root: HtmlElement) -> list[HtmlElement]:
    return [el for el in _FIGCAPTION_OR_CLASS(root)
            if el.tag == "figcaption" or _CREDIT_CLASS.search(el.get("class") or "")]


def _byline_elements(root: HtmlElement) -> list[HtmlElement]:
    out = []
    for el in WITH_NAMING_ATTRS(root):
        cls, ident = el.get("class"), el.get("id")
        if (cls is not None and (_BYLINE_NAME.search(cls) or _BY_TOKEN.search(cls))) or (
                ident is not None and _BYLINE_NAME.search(ident)) or (
                el.get("rel") == "author" or el.get("itemprop") == "author"):
            out.append(el)
    return out
_BYLINE_WORDS = ("byline", "by-line", "author", "writer", "contributor", "posted-by",
                 "post-meta", "entry-meta", "article-meta", "meta-author", "credits")


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    return any(w in text for w in words)


def _is_byline_cls(names: str) -> bool:
    low = names.lower()
    return _has_any(low, _BYLINE_WORDS) or " by " in f" {low} "
_CREDIT_LINE = re.compile(r"\(?(?:Photo|Image|Header image|Lead image|Top image|Photos|Images|"
                          r"Picture|Credit|Foto|Main image|Cover image)s?\s*(?:by\b|credits?\b|"
                          r"courtesy\b|:)", re.I)


def _credit_role(label: str) -> str:
    low = label.lower()
    if low.startswith(("image", "picture", "header", "lead", "top", "cover", "main", "hero",
                       "feature", "illustration", "screenshot", "screengrab", "bild")):
        return "image"
    if low.startswith("video"):
        return "video"
    return "photo"


def _tidy_credit(who: str) -> str:
    who = clean_space(who)
    who = re.sub(r",\s+(?:used|reproduced|with|all|some|licensed|via|courtesy|taken|shot)\b.*$",
                 "", who)
    who = re.sub(r"\s+(?:for|via|on|at)\s+\w.*$", lambda m: m.group(0)
                 if re.match(r"\s+for\s+[A-Z]", m.group(0)) else "", who)
    who = who.strip(" .,:;-—–()[]\"'“”")
    return who


def _img_src(fig: HtmlElement | None, base: str) -> str | None:
    if fig is None:
        return None
    for img in fig.iter("img", "source", "amp-img"):
        for attr in ("src", "data-src", "data-lazy-src", "data-original", "srcset"):
            val = img.get(attr)
            if val and not val.startswith("data:"):
                val = val.split(",")[0].split()[0] if attr == "srcset" else val
                return absolute(base, val)
    return None


def find_credits(root: HtmlElement, body: HtmlElement | None, base: str, cache: ClutterCache,
                 order: Order) -> list[Found]:
    rows: list[Found] = []
    seen: set[tuple[str, str | None]] = set()
    cands: list[tuple[HtmlElement, HtmlElement | None]] = []
    for el in _credit_elements(root):
        cls = el.get("class")
        if el.tag != "figcaption" and (cls is None or not _has_any(cls.lower(), _CREDIT_WORDS)):
            continue
        if _hard_clutter(el, cache):
            continue
        cands.append((el, _figure_of(el)))
    for el in (body if body is not None else root).iter("p"):
        head = "".join(islice(el.itertext(), 3)).lstrip()[:40]
        if not _CREDIT_LINE.match(head):
            continue
        txt = el.text_content() or ""
        if len(txt) < 160 and _CREDIT_LINE.match(clean_space(txt)) and \
                not _hard_clutter(el, cache):
            cands.append((el, _prev_image(el)))
    cands.sort(key=lambda c: order.get(c[0], 0))
    done: set[HtmlElement] = set()
    for el, fig in cands:
        if any(a in done for a in el.iterancestors()):
            continue
        text = clean_space(el.text_content() or "")
        if not text:
            continue
        matches = list(_CREDIT.finditer(text))
        m = matches[-1] if matches else None  # "Main image: ... Photograph: X" -> X
        for _ in range(3):
            inner = _CREDIT.search(m.group("who")) if m else None
            if inner is None:
                break
            m = inner
        who = role = None
        if m and not re.match(r"(?:of|the|a|an|in|from|taken|shows?|showing)\b",
                              m.group("who").strip(), re.I):
            who = _tidy_credit(m.group("who"))
            role = _credit_role(m.group("label"))
            if m.group("label").lower().startswith("source") and not re.search(
                    r"image|photo|credit", f"{el.get('class') or ''}", re.I):
                who = None
        if who is None:
            mc = _COPY.search(text)
            if mc:
                who = _tidy_credit(mc.group("who"))
                role = "photo"
        if who is None:
            cls = f"{el.get('class') or ''}".lower()
            if "credit" in cls and len(text) < 60 and tag_of(el) != "figcaption" and \
                    fig is not None and re.search(r"[A-Z]", text) and \
                    (len(text.split()) >= 2 or "/" in text) and \
                    not re.search(r"\b(?:by|invented|powered|sponsored|ad)\b", text, re.I):
                who, role = _tidy_credit(text), "photo"
        if not who or len(who) < 2 or who.lower() in ("getty", "shutterstock") and False:
            continue
        if not re.search(r"[A-Za-zÀ-ÿ]", who):
            continue
        image = _img_src(fig, base)
        key = (who.casefold(), image)
        if key in seen:
            continue
        seen.add(key)
        done.add(el)
        rows.append(Found("credit", who, None, role, text, (order.get(el, 0), 0),
                          _details(image=image)))
    return rows


def _figure_of(el: HtmlElement) -> HtmlElement | None:
    node: HtmlElement | None = el
    for _ in range(4):
        if node is None:
            break
        if tag_of(node) == "figure":
            return node
        node = node.getparent()
    prev = _prev_image(el)
    if prev is not None:
        return prev
    parent = el.getparent()
    if parent is not None and len(list(parent.iter("img"))) == 1:
        return parent
    return None


def _prev_image(el: HtmlElement) -> HtmlElement | None:
    prev = el.getprevious()
    for _ in range(3):
        if prev is None:
            return None
        if not tag_of(prev):
            prev = prev.getprevious()
            continue
        if tag_of(prev) == "img" or prev.find(".//img") is not None:
            return prev
        prev = prev.getprevious()
    return None


# ---------------------------------------------------------------------------- bylines

_PROFILE = re.compile(r"/(?:author|authors|people|person|profile|profiles|staff|contributors?|"
                      r"writers?|team|journalists?|reporters?|by|u|user|users|editors?|"
                      r"mitarbeiter|autor|autoren|redaktion)/", re.I)
_SOCIAL = ("twitter.com", "x.com", "facebook.com", "instagram.com", "linkedin.com",
           "threads.net", "bsky.app", "mastodon.social", "youtube.com", "tiktok.com")
_BY_PREFIX = re.compile(r"^\s*(?:(?:written|words|reporting|story|text|posted|published)\s+)?"
                        r"(?:by|von|par|por|door|di)\b[:\s]*|^\s*(?:words|text|author|autor|"
                        r"reporting)\s*:\s*", re.I)


def _norm(s: str) -> str:
    return re.sub(r"[^\w]+", " ", s.casefold()).strip()


def _split_names(text: str) -> list[str]:
    text = _BY_PREFIX.sub("", text)
    text = re.sub(r"\((?:https?://|www\.)[^)]*\)", "", text)  # "Name (http://...)"
    text = re.sub(r"\s*\(?\b(?:avec|with|mit|con)\b\s*", " and ", text)
    text = text.replace("(", " ").replace(")", " ")
    text = re.split(r"\s+[|·•—–]\s+|\s+-\s+|\bon\s+(?=\w+\s+\d)|\bupdated\b|\bpublished\b|"
                    r"\s+\d{1,2}[./]\d{1,2}[./]\d{2,4}|\n", text, flags=re.I)[0]
    # "A and B, Lens & Light" / "A, Senior Editor": what follows the first comma is kept
    # only when it reads as further names
    chunks = [c.strip() for c in text.split(",")]
    keep = [chunks[0]]
    for c in chunks[1:]:
        toks = c.split()
        if "&" in c or not toks or any(t.lower().strip(".") in CORP_WORDS or
                                       t.lower() in _TITLE_WORDS for t in toks):
            break
        keep.append(c)
    text = ", ".join(keep)
    parts = re.split(r"\s*(?:,|;|\band\b|&|\bund\b|\bet\b)\s*", text)
    names = []
    for p in parts:
        p = re.sub(r"\s*\(?@\w+\)?", "", p).strip(" .,:")
        p = _BY_PREFIX.sub("", p).strip()
        if not p or any(c.isdigit() for c in p):
            continue
        toks = p.split()
        if not 1 <= len(toks) <= 5 or not p[0].isupper():
            continue
        if re.search(r"\b(?:staff|team|editors?|desk|contributor|photographer|senior|"
                     r"reporter|correspondent|minute|min|read)\b", p, re.I) and len(toks) < 2:
            continue
        if _NOT_AUTHOR.search(p) or ":" in p or (len(toks) == 1 and not (
                p.isupper() and len(p) >= 2)):
            continue
        names.append(p)
    return names


_NOT_AUTHOR = re.compile(r"\b(?:feed|follow|responses?|comments?|more|reporter|staff|editors?|"
                         r"news|share|subscribe|read|view|profile|posts?|articles?|author|"
                         r"name|fail|monday|tuesday|wednesday|thursday|friday|saturday|"
                         r"sunday)\b", re.I)


_TITLE_WORDS = frozenset(["editor", "senior", "staff", "writer", "reporter", "correspondent",
                          "contributor", "photographer", "columnist", "editors", "desk", "team",
                          "news", "chief", "deputy", "managing", "contributing"])


def _ld_authors(root: HtmlElement) -> list[str]:
    names: list[str] = []
    for sc in root.iter("script"):
        if (sc.get("type") or "").lower() != "application/ld+json" or not sc.text:
            continue
        try:
            data = json.loads(sc.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                if "@graph" in node:
                    stack.extend(node["@graph"] if isinstance(node["@graph"], list) else [])
                auth = node.get("author") if node.get("@type") not in ("Person",) else None
                for a in auth if isinstance(auth, list) else [auth] if auth else []:
                    nm = a.get("name") if isinstance(a, dict) else a if isinstance(a, str) \
                        else None
                    if isinstance(nm, str) and nm.strip() and nm.strip() not in names:
                        typ = a.get("@type") if isinstance(a, dict) else None
                        if typ != "Organization":
                            names.append(nm.strip())
    return names


def find_authors(root: HtmlElement, authors: list[str], base: str, cache: ClutterCache,
                 order: Order) -> list[Found]:
    byline_links: list[HtmlElement] = []
    byline_boxes: list[HtmlElement] = []
    given = [n for a in authors for n in _split_given(a)]
    # with names from the metadata only their profile links are needed: no byline scan
    # unless a name looks like two glued together ("Jane DoeTom Becker")
    scan = not given or any(re.search(r"[a-z][A-Z]", n) for n in given)
    for el in _byline_elements(root) if scan else ():
        c, i, rel, itemprop = el.get("class"), el.get("id"), el.get("rel"), el.get("itemprop")
        if c is None and i is None and rel is None and itemprop is None:
            continue
        tag = tag_of(el)
        if tag in ("script", "style", "meta", "link", "body", "html"):
            continue
        if not ((rel or "").lower() == "author" or (itemprop or "").lower() == "author" or
                _is_byline_cls(f"{c or ''} {i or ''}")):
            continue
        if _author_clutter(el):
            continue
        if tag == "a":
            byline_links.append(el)
        else:
            byline_boxes.append(el)
            byline_links.extend(el.iter("a"))
    names = list(given)
    if names and scan:
        names = _unglue(names, byline_links)
    if not names:
        byline_boxes.extend(_heading_bylines(root))
        names = _names_from_bylines(byline_boxes, byline_links, base)
    if not names:
        names = _ld_authors(root)
    if not names:
        for meta in root.iter("meta"):
            if (meta.get("name") or "").lower() in ("author", "article:author", "dc.creator") \
                    and meta.get("content") and not meta.get("content", "").startswith("http"):
                names = _split_names(meta.get("content", ""))
                break
    rows = []
    seen = set()
    for name in names:
        key = _norm(name)
        if not key or key in seen:
            continue
        seen.add(key)
        url, pos = _profile_link(name, byline_links, root, base)
        rows.append(Found("author", name, url, None, None, (-1, len(rows))))
        del pos
    return rows


def _heading_bylines(root: HtmlElement) -> list[HtmlElement]:
    """A short "By ..." line right under the headline, with no byline markup."""
    out = []
    for h in root.iter("h1"):
        if _author_clutter(h):
            continue
        sib = h.getnext()
        for _ in range(3):
            if sib is None:
                break
            if not tag_of(sib):
                sib = sib.getnext()
                continue
            txt = clean_space(sib.text_content() or "")
            if txt and len(txt) < 120 and re.match(r"(?:by|von|par)\s+[A-ZÀ-Ý]", txt, re.I):
                out.append(sib)
                break
            sib = sib.getnext()
        break
    return out


def _author_clutter(el: HtmlElement) -> bool:
    node: HtmlElement | None = el
    while node is not None:
        tag = tag_of(node)
        if tag in ("nav", "footer", "aside"):
            return True
        names = f"{node.get('class') or ''} {node.get('id') or ''}"
        if _AUTHOR_CLUTTER.search(names):
            return True
        node = node.getparent()
    return False


def _unglue(names: list[str], links: list[HtmlElement]) -> list[str]:
    """"Jane DoeTom Becker" (two byline links read as one string) -> the links' names."""
    link_names = [clean_space(a.text_content() or "") for a in links]
    link_names = [n for n in dict.fromkeys(link_names) if n and len(n.split()) <= 5]
    out: list[str] = []
    for name in names:
        squashed = re.sub(r"\s+", "", name).casefold()
        parts = [n for n in link_names if re.sub(r"\s+", "", n).casefold() in squashed]
        if len(parts) >= 2 and re.sub(r"\s+", "", "".join(parts)).casefold() == squashed:
            out.extend(parts)
        else:
            out.append(name)
    return out


def _split_given(name: str) -> list[str]:
    name = clean_space(name)
    parts = re.split(r"\s*(?:,|\band\b|&)\s*", name)
    if len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
        return parts
    return [name]


def _names_from_bylines(boxes: list[HtmlElement], links: list[HtmlElement],
                        base: str) -> list[str]:
    names: list[str] = []
    for a in links:
        href = absolute(base, a.get("href")) or ""
        if (a.get("rel") or "").lower() == "author" or _PROFILE.search(href):
            txt = clean_space(a.text_content())
            for n in _split_names(txt):
                if n not in names:
                    names.append(n)
    if names:
        return names
    for box in boxes:
        txt = clean_space(box.text_content())
        if not txt or len(txt) > 160:
            continue
        got = _split_names(txt)
        if got:
            return got
    return names


def _profile_link(name: str, links: list[HtmlElement], root: HtmlElement,
                  base: str) -> tuple[str | None, int]:
    key = _norm(name)
    for pool in (links, root.iter("a")):
        for a in pool:
            if _norm(a.text_content() or "") != key:
                continue
            href = absolute(base, a.get("href"))
            if not href or host_of(href).endswith(_SOCIAL):
                continue
            if pool is not links and _author_clutter(a):
                continue
            return href, 0
    return None, 0
