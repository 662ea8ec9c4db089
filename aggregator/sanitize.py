"""Make article HTML and text safe to render in someone else's feed reader or web page.

``sanitize_html(html, base_url)`` is an allowlist sanitizer built on nh3 (ammonia):

- only formatting, structure, links, images, tables, figures and quotes survive; ``script``,
  ``style``, ``svg``, ``math``, ``template``, ``object``/``embed``, forms and their whole
  content are removed; every attribute not on the list goes, so no ``on*`` handlers and no
  ``style``;
- URLs (``href``, ``src``, ``cite``, ``poster``, every ``srcset`` candidate) are made absolute
  against the article's URL; only ``http``/``https``/``mailto`` remain, plus ``data:image/...``
  (raster types only) as an image ``src``; anything else (``javascript:``, ``vbscript:``,
  ``data:text/html``, tab-split ``java\tscript:``) drops the attribute;
- ``iframe`` only from the video hosts in ``VIDEO_HOSTS`` (YouTube, youtube-nocookie, Vimeo),
  over https, with a ``sandbox``; any other iframe is removed;
- tracking pixels are removed: images of 1x1 (or 0) pixels, images hidden by their style,
  and images from known pixel hosts or pixel-like paths;
- links get ``rel="noopener noreferrer nofollow ugc"``; images ``referrerpolicy=no-referrer``.

The post-processing steps (dropping pixel images and empty iframes) run on nh3's output,
which is canonical (every attribute double-quoted and escaped), so they cannot create markup.

Text helpers: ``clean_text`` (control and XML-invalid characters removed), ``escape_html``,
``text_to_html`` (plain paragraphs -> escaped ``<p>`` elements).
"""

from __future__ import annotations

import html as _html
import re
from urllib.parse import urljoin, urlsplit

import nh3

__all__ = [
    "PIXEL_HOSTS", "VIDEO_HOSTS", "clean_text", "escape_html", "safe_url", "sanitize_html",
    "text_to_html",
]

VIDEO_HOSTS = frozenset({
    "www.youtube-nocookie.com", "youtube-nocookie.com", "www.youtube.com", "youtube.com",
    "player.vimeo.com",
})
#: Hosts (and host suffixes) that serve tracking pixels, not pictures.
PIXEL_HOSTS = frozenset({
    "pixel.wp.com", "stats.wp.com", "www.facebook.com", "pixel.quantserve.com",
    "sb.scorecardresearch.com", "b.scorecardresearch.com", "www.google-analytics.com",
    "google-analytics.com", "ad.doubleclick.net", "stats.g.doubleclick.net",
    "pixel.mathtag.com", "bat.bing.com", "px.ads.linkedin.com", "analytics.twitter.com",
    "t.co", "mc.yandex.ru", "pixel.tapad.com", "ct.pinterest.com", "pixel.adsafeprotected.com",
    "feeds.feedburner.com", "feedproxy.google.com", "counter.yadro.ru", "pixel.parsely.com",
    "tr.snapchat.com", "analytics.tiktok.com",
})
_PIXEL_PATH = re.compile(
    r"(?:^|/)(?:pixel|1x1|spacer|blank|beacon|track(?:ing)?|open|transparent|p)"
    r"(?:[._-][a-z0-9]+)?\.(?:gif|png)$|/(?:pixel|beacon|track|collect|tr)(?:/|$)",
    re.IGNORECASE,
)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|gif|jpe?g|webp|avif);base64,[a-z0-9+/=\s]*$",
                         re.IGNORECASE)

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "iframe", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "picture", "pre", "q", "s", "samp", "small", "source", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var",
    "wbr",
})
#: Elements removed together with everything inside them.
DROP_WITH_CONTENT = frozenset({
    "script", "style", "svg", "math", "template", "noscript", "object", "embed", "applet",
    "form", "textarea", "select", "button", "title", "head", "frameset", "frame", "noembed",
    "noframes", "xmp", "plaintext", "canvas", "audio", "video", "link", "meta", "base",
})
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "title", "width", "height", "style"},
    "source": {"srcset", "sizes", "media", "type"},
    "iframe": {"src", "width", "height", "title", "allowfullscreen"},
    "blockquote": {"cite"}, "q": {"cite"}, "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"}, "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"}, "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"}, "colgroup": {"span"}, "ol": {"start", "reversed"},
    "abbr": {"title"}, "dfn": {"title"},
}
URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
IFRAME_SANDBOX = "allow-scripts allow-same-origin allow-presentation allow-popups"
LINK_REL = "noopener noreferrer nofollow ugc"

_URL_STRIP = re.compile(r"[\x00-\x20\x7f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_PIXEL_MARK = "display:none"
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_IFRAME = re.compile(r"<iframe\b([^>]*)>(.*?)</iframe>", re.DOTALL)
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')


def clean_text(value: object) -> str:
    """A text value without control characters (and none XML 1.0 forbids); None -> ""."""
    if value is None:
        return ""
    return _CONTROL.sub("", str(value))


def escape_html(value: object) -> str:
    """Text escaped for HTML element content and double- or single-quoted attributes."""
    return _html.escape(clean_text(value), quote=True)


_MARKUP_TAGS = frozenset(nh3.ALLOWED_TAGS) | TAGS | DROP_WITH_CONTENT | {
    "html", "body", "iframe", "img", "input", "option", "marquee", "blink", "font", "center",
    "image", "animate", "set", "foreignobject", "use", "isindex", "keygen", "dialog", "slot"}
_TAG_OR_COMMENT = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)|</?([a-zA-Z][\w:-]*)\b[^>]*>",
    re.IGNORECASE | re.DOTALL)


def inert_text(value: object) -> str:
    """A text field for a format whose readers may render it as HTML (RSS 2.0 ``<title>``,
    ``<dc:creator>``). HTML tags are removed (script and style with their content; a
    bracketed word that is no HTML element, like ``<Magazine>``, is kept), and every ``<``
    and ``>`` left is written as ``&lt;``/``&gt;``: once the XML is parsed the value holds
    no markup, whether a reader shows it as text or renders it as HTML. ``&`` is kept."""

    def strip(m: re.Match[str]) -> str:
        if m.group(2) is not None and m.group(2).lower() not in _MARKUP_TAGS:
            return m.group(0)  # not an element: kept, and escaped below
        return " "

    text = _TAG_OR_COMMENT.sub(strip, clean_text(value))
    text = " ".join(text.split())
    return text.replace("<", "&lt;").replace(">", "&gt;")


def text_to_html(text: str | None) -> str:
    """Plain text with paragraphs separated by blank lines -> escaped ``<p>`` elements."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", clean_text(text)) if p.strip()]
    return "".join(f"<p>{escape_html(p)}</p>" for p in paras)


def safe_url(value: str | None, base: str | None = None, *, image: bool = False) -> str | None:
    """``value`` made absolute against ``base`` if its scheme is safe to link, else None.

    Browsers drop tabs, newlines and leading control characters from URLs, so those are
    removed before the scheme is read (``java\\tscript:`` is ``javascript:``).
    """
    if value is None:
        return None
    url = _URL_STRIP.sub("", clean_text(value)) if not value.startswith("data:") else value
    if not url:
        return None
    if image and url[:5].lower() == "data:":
        return url if _DATA_IMAGE.match(url) else None
    try:
        joined = urljoin(base, url) if base else url
        parts = urlsplit(joined)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return joined if parts.netloc else None
    if scheme == "mailto" and not image:
        return joined
    return None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _is_pixel_src(url: str) -> bool:
    if url.startswith("data:"):
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in PIXEL_HOSTS):
        return True
    return bool(_PIXEL_PATH.search(parts.path))


def _tiny(value: str | None) -> bool:
    if value is None:
        return False
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(px)?\s*$", value)
    return bool(m) and float(m.group(1)) <= 1


def _hidden_style(style: str) -> bool:
    s = re.sub(r"\s+", "", style.lower())
    return (
        "display:none" in s or "visibility:hidden" in s or "opacity:0;" in s + ";"
        or bool(re.search(r"(?:^|;)(?:max-)?width:[01](?:px)?(?:;|$)", s)
                and re.search(r"(?:^|;)(?:max-)?height:[01](?:px)?(?:;|$)", s))
    )


def _srcset_candidates(value: str) -> list[tuple[str, str]]:
    """(url, descriptor) pairs, split as the HTML spec does: a URL is a run of non-space
    characters (so ``data:x,y`` stays whole), descriptors run to the next comma."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if not url:
            break
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = value.find(",", i)
            end = n if end < 0 else end
            descriptor = value[i:end].strip()
            i = end + 1
        out.append((url, descriptor))
    return out


def _srcset(value: str, base: str | None) -> str | None:
    out = []
    for raw_url, raw_descriptor in _srcset_candidates(value):
        url = safe_url(raw_url, base, image=True)
        if url is None or url.startswith("data:") or "," in url:
            continue
        descriptor = raw_descriptor if re.fullmatch(r"\d+(?:\.\d+)?[wx]", raw_descriptor) else ""
        out.append(f"{url} {descriptor}".strip())
    return ", ".join(out) or None


def sanitize_html(html: str | None, base_url: str | None = None) -> str:
    """Allowlist-sanitized HTML fragment, URLs absolute against ``base_url``."""
    if not html or not html.strip():
        return ""

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if tag == "iframe" and attr == "src":
            url = safe_url(value, base_url)
            if url is None or urlsplit(url).scheme != "https" or _host(url) not in VIDEO_HOSTS:
                return None
            return url
        if tag == "img" and attr == "style":
            return _PIXEL_MARK if _hidden_style(value) else None
        if attr in ("width", "height") and tag == "img" and _tiny(value):
            return "0"  # marked; the whole image is dropped below
        if attr == "srcset":
            return _srcset(value, base_url)
        if attr in URL_ATTRIBUTES:
            url = safe_url(value, base_url, image=(tag == "img" and attr == "src"))
            if url is not None and tag == "img" and attr == "src" and _is_pixel_src(url):
                return "about:pixel"
            return url
        return clean_text(value)

    cleaned = nh3.clean(
        clean_text(html),
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto", "data", "about"},
        strip_comments=True,
        link_rel=LINK_REL,
    )
    cleaned = _IMG_TAG.sub(_keep_image, cleaned)
    return _IFRAME.sub(_keep_iframe, cleaned).strip()


def _attrs(tag: str) -> dict[str, str]:
    return {k: _html.unescape(v) for k, v in _ATTR.findall(tag)}


def _keep_image(m: re.Match[str]) -> str:
    attrs = _attrs(m.group(0))
    src = attrs.get("src", "")
    if (attrs.get("style") == _PIXEL_MARK or src == "about:pixel" or not src
            or (attrs.get("width") == "0" and attrs.get("height") == "0")):
        return ""
    # added here rather than by nh3 (whose added attributes come in hash order): stable output
    return m.group(0)[:-1] + ' referrerpolicy="no-referrer" loading="lazy">'


def _keep_iframe(m: re.Match[str]) -> str:
    if 'src="https://' not in m.group(1):
        return ""
    return (f'<iframe{m.group(1)} sandbox="{IFRAME_SANDBOX}" referrerpolicy="no-referrer"'
            f' loading="lazy"></iframe>')
