"""Test data and checks shared by the outputs tests (export, serve, sanitize, watches).

``make_store`` builds a real SQLite store in a temporary folder with a handful of articles:
three covering one story (ids 1-3), two stand-alone articles, and the XSS fixture article.
``assert_inert_html`` checks an HTML fragment the way a browser would see it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
from lxml import etree

from aggregator.models import Article, Attribution
from aggregator.store import Store

ROOT = Path(__file__).resolve().parent.parent
XSS_PAGE = ROOT / "fixtures" / "xss" / "article.html"
XSS_URL = "https://shutternotes.example/xss/article.html"
FETCHED = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)

_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|livescript|mocha|file):", re.I)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|gif|jpe?g|webp|avif);base64,", re.I)
_URL_STRIP = re.compile(r"[\x00-\x20\x7f]+")
_FORBIDDEN_TAGS = {"script", "style", "svg", "math", "object", "embed", "form", "input",
                   "button", "base", "meta", "link", "frame", "frameset", "template",
                   "textarea", "noscript", "applet"}
_URL_ATTRS = {"href", "src", "action", "formaction", "cite", "poster", "background",
              "xlink:href", "data", "lowsrc", "dynsrc", "longdesc", "srcdoc"}
VIDEO_HOSTS = ("https://www.youtube-nocookie.com/", "https://www.youtube.com/",
               "https://player.vimeo.com/")


def xss_article() -> Article:
    """The XSS fixture as an extractor might hand it over, worst case: title, author and
    body HTML taken raw from the page (nothing cleaned on the way in)."""
    doc = lxml.html.fromstring(XSS_PAGE.read_bytes())
    title = doc.findtext(".//title") or ""
    author = doc.xpath("string(//meta[@name='author']/@content)")
    body = doc.xpath("//div[@class='entry-content']")[0]
    raw_html = (body.text or "") + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in body)
    # the raw page markup between the tags, script and all, is what we pass on
    page = XSS_PAGE.read_text(encoding="utf-8")
    inner = page[page.index('<div class="entry-content">') + 27:page.rindex("</div>")]
    text = body.text_content()
    return Article(
        url=XSS_URL, title=title, text=text, html=inner or raw_html,
        canonical_url=XSS_URL, authors=(author, "Ann <b onmouseover=alert('a2')>Other</b>"),
        published=datetime(2026, 4, 2, 9, 0, tzinfo=UTC), language="en",
        summary="Summary with <script>alert('summary')</script> & ampersand",
        attributions=(
            Attribution("author", author, url="javascript:alert('attr')"),
            Attribution("quote", "Ines Varga", role="product manager <i>Kestrel</i>",
                        text="It is the fastest body we have made"),
        ),
    )


def article(n: int, *, source: str = "camerablog", title: str | None = None,
            text: str | None = None, html: str = "", published: datetime | None = None,
            attributions: tuple[Attribution, ...] = ()) -> Article:
    url = f"https://{source}.example/2026/04/story-{n}.html"
    return Article(
        url=url, title=title or f"Article {n}: Kestrel sensor news",
        text=text or f"Paragraph one of article {n} about the sensor.\n\nParagraph two.",
        html=html or f'<p>Paragraph one of article {n} <a href="/about">about</a> the '
                     f'sensor.</p><p>Paragraph two.</p>',
        canonical_url=url, authors=(f"Author {n}",),
        published=published or datetime(2026, 4, 1, 8, 0, tzinfo=UTC) + timedelta(hours=n),
        language="en", summary=f"Summary {n}", attributions=attributions,
    )


def save(store: Store, art: Article, source: str, fetched: datetime = FETCHED) -> int:
    res = store.save_article(art, source=source, canonical_url=art.canonical_url or art.url,
                             aliases=[], fetched=fetched)
    return res.article_id


def make_store(tmp_path: Path, *, xss: bool = True) -> Store:
    """A store with sources, one three-article story, two singles and the XSS article."""
    store = Store.open(tmp_path / "out.db")
    from aggregator.models import Source

    store.sync_sources([
        Source("camerablog", "Shutter Notes", "feed", "https://camerablog.example/feed.xml",
               3600),
        Source("magazine", "Lens & Light <Magazine>", "feed",
               "https://magazine.example/atom.xml", 3600),
        Source("wire", "Photo Wire Daily", "feed", "https://wire.example/rss.xml", 3600),
    ])
    story_title = "Kestrel announces the K-9 stacked sensor"
    ids = [
        save(store, article(1, source="magazine", title=story_title,
                            published=datetime(2026, 4, 1, 9, 0, tzinfo=UTC)), "magazine"),
        save(store, article(2, source="camerablog", title=story_title + " (report)",
                            published=datetime(2026, 4, 1, 11, 0, tzinfo=UTC)), "camerablog"),
        save(store, article(3, source="wire", title=story_title + " (wire)",
                            published=datetime(2026, 4, 1, 12, 0, tzinfo=UTC)), "wire"),
    ]
    with store.transaction():
        # The store grouped these itself; pin the grouping the output tests rely on.
        store.conn.execute("DELETE FROM story_keys")
        store.conn.execute("DELETE FROM dedup_bands")
        store.conn.execute("DELETE FROM stories")
        store.conn.execute("UPDATE articles SET duplicate_of = NULL, similarity = NULL")
        store.conn.execute(
            "INSERT INTO stories (id, title, first_seen, first_source, first_article, articles,"
            " sources, updated) VALUES (1, ?, ?, 'magazine', ?, 3, 3, ?)",
            (story_title, "2026-04-01T09:00:00+00:00", ids[0], "2026-04-01T12:00:00+00:00"))
        store.conn.execute(f"UPDATE articles SET story_id = 1 WHERE id IN ({ids[0]}, {ids[1]},"
                           f" {ids[2]})")
        store.conn.execute(f"UPDATE articles SET duplicate_of = {ids[0]} WHERE id = {ids[2]}")
    save(store, article(4, source="camerablog", title="Lens roundup for spring",
                        text="Seven lenses for the new season.\n\nNo sensors here."),
         "camerablog")
    save(store, article(5, source="magazine", title="Interview: Ines Varga of Kestrel",
                        attributions=(Attribution("quote", "Ines Varga", role="Kestrel",
                                                  text="We built it for birders"),)),
         "magazine")
    if xss:
        save(store, xss_article(), "camerablog")
    return store


def assert_inert_html(fragment: str, where: str = "") -> None:
    """No script, no handler, no script URL, no foreign iframe, no style in ``fragment``."""
    if not fragment or not fragment.strip():
        return
    for el in lxml.html.fragments_fromstring("<div>" + fragment + "</div>")[0].iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        assert tag not in _FORBIDDEN_TAGS, f"{where}: <{tag}> survived: {fragment[:300]}"
        if tag == "iframe":
            src = el.get("src") or ""
            assert src.startswith(VIDEO_HOSTS), f"{where}: iframe from {src!r}"
            assert el.get("sandbox") is not None, f"{where}: iframe without sandbox"
        for name, value in el.attrib.items():
            lname = name.lower()
            assert not lname.startswith("on"), f"{where}: <{tag} {name}> survived"
            assert lname not in ("style", "srcdoc", "formaction"), f"{where}: {name} survived"
            if lname in _URL_ATTRS:
                url = _URL_STRIP.sub("", value)
                if tag == "img" and lname == "src" and _DATA_IMAGE.match(url):
                    continue
                assert not _BAD_SCHEME.match(url), f"{where}: <{tag} {name}={value!r}>"
            if lname == "srcset":
                for cand in value.split(","):
                    url = _URL_STRIP.sub("", cand.strip().split(" ")[0]) if cand.strip() else ""
                    assert not _BAD_SCHEME.match(url), f"{where}: srcset {value!r}"
        if tag == "img":
            src = el.get("src") or ""
            assert "pixel.wp.com" not in src and "track.gif" not in src \
                and "open.png" not in src, f"{where}: tracking pixel {src!r}"
