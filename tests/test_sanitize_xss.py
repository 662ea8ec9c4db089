"""The allowlist sanitizer: payloads in, inert HTML out; pixels gone; links absolute."""

from __future__ import annotations

import pytest
from outputs_data import XSS_URL, assert_inert_html, xss_article

from aggregator.sanitize import (
    clean_text,
    escape_html,
    inert_text,
    safe_url,
    sanitize_html,
    text_to_html,
)

BASE = "https://site.example/news/item.html"


def test_xss_fixture_body_is_inert() -> None:
    out = sanitize_html(xss_article().html, XSS_URL)
    assert_inert_html(out, "fixture body")
    assert "alert(" not in out.replace("alert('", "")  # only as escaped text, if at all
    # the harmless parts survive
    assert "stacked sensor" in out
    assert '<a href="https://kestrel-optics.example/k9"' in out
    assert 'href="https://shutternotes.example/xss/specs.html"' in out
    assert 'src="https://www.youtube-nocookie.com/embed/k9sample"' in out
    assert "sandbox=" in out
    assert "mailto:tips@shutternotes.example" in out
    assert "data:image/png;base64," in out
    assert "data:image/svg" not in out
    assert "evil.example" not in out
    assert "pixel.wp.com" not in out and "track.gif" not in out and "open.png" not in out


@pytest.mark.parametrize("payload", [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JAVASCRIPT:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#x20;javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<svg onload=alert(1)>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="http://www.youtube.com/embed/x"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">b</button>',
    '<details open ontoggle=alert(1)>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<img src="x.jpg" srcset="javascript:alert(1) 1x, data:text/html,x 2x">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<a href="#" onclick="alert(1)">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zy8+">',
    '<scr<script>ipt>alert(1)</script>',
    '<<img src=x onerror=alert(1)//<',
    '<template><img src=x onerror=alert(1)></template>',
    '<!--<img src=x onerror=alert(1)>-->',
])
def test_payloads_are_inert(payload: str) -> None:
    out = sanitize_html(payload, BASE)
    assert_inert_html(out, payload)


def test_relative_links_made_absolute() -> None:
    out = sanitize_html('<a href="../x.html">a</a><img src="/i.jpg" srcset="a.jpg 1x, '
                        '/b.jpg 2x"><blockquote cite="q.html">q</blockquote>', BASE)
    assert 'href="https://site.example/x.html"' in out
    assert 'src="https://site.example/i.jpg"' in out
    assert "https://site.example/news/a.jpg 1x, https://site.example/b.jpg 2x" in out
    assert 'cite="https://site.example/news/q.html"' in out
    assert 'rel="noopener noreferrer nofollow ugc"' in out


@pytest.mark.parametrize("img", [
    '<img src="https://pixel.wp.com/g.gif?x=1">',
    '<img src="/t.gif" width="1" height="1">',
    '<img src="/t.gif" width="0" height="0">',
    '<img src="/photo.jpg" style="display: none">',
    '<img src="/photo.jpg" style="width:1px;height:1px">',
    '<img src="https://www.facebook.com/tr?id=1&ev=PageView">',
    '<img src="https://stats.example/pixel.gif">',
    '<img src="https://feeds.feedburner.com/~r/x/~4/abc">',
])
def test_tracking_pixels_dropped(img: str) -> None:
    assert "<img" not in sanitize_html(f"<p>{img}text</p>", BASE)


def test_real_images_kept() -> None:
    out = sanitize_html('<img src="/p.jpg" width="800" height="600" alt="A camera">', BASE)
    assert '<img src="https://site.example/p.jpg"' in out and 'alt="A camera"' in out


def test_vimeo_and_youtube_iframes_sandboxed() -> None:
    out = sanitize_html('<iframe src="https://player.vimeo.com/video/1"></iframe>'
                        '<iframe src="https://www.youtube.com/embed/x" onload="x()"></iframe>'
                        '<iframe src="https://youtube.com.evil.example/embed/x"></iframe>', BASE)
    assert out.count("<iframe") == 2
    assert out.count('sandbox="') == 2
    assert "evil" not in out and "onload" not in out


def test_text_helpers() -> None:
    assert escape_html('<b>"x"</b> & \'y\'') == \
        "&lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; &#x27;y&#x27;"
    assert clean_text("a\x00b\x1fc\x0bd") == "abcd"
    assert text_to_html("One <b>\n\nTwo & three") == "<p>One &lt;b&gt;</p><p>Two &amp; three</p>"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url(" java\nscript:alert(1)") is None
    assert safe_url("/a", "https://h.example/b/c") == "https://h.example/a"
    assert safe_url("data:image/png;base64,AAAA", image=True) == "data:image/png;base64,AAAA"
    assert safe_url("data:image/png;base64,AAAA") is None
    assert sanitize_html("") == "" and sanitize_html(None) == ""


def test_rss_titles_and_authors_inert_when_rendered_as_html(tmp_path) -> None:
    """Many readers render an RSS <title> or <dc:creator> as HTML: the parsed value must hold
    no markup at all (the raw XSS title and authors go in as the worst case)."""
    from lxml import etree
    from outputs_data import make_store

    from aggregator.export import DC_NS, FeedInfo, build, select_articles

    store = make_store(tmp_path)
    try:
        articles = select_articles(store, limit=50)
    finally:
        store.close()
    info = FeedInfo("Feed <b onmouseover=alert('feed')>title</b>", "http://127.0.0.1/f.rss")
    xml = build("rss", info, articles, per_story=False)
    root = etree.fromstring(xml.encode("utf-8"),
                            etree.XMLParser(recover=False, resolve_entities=False))
    titles = [el.text or "" for el in root.iter("title")]
    creators = [el.text or "" for el in root.iter(f"{{{DC_NS}}}creator")]
    categories = [el.text or "" for el in root.iter("category")]
    for value in (*titles, *creators, *categories,
                  root.findtext("channel/description") or ""):
        assert "<" not in value and ">" not in value, value  # as HTML: text, no element
        assert_inert_html(value, "rss text field rendered as HTML")
    xss = [t for t in titles if t.startswith("Kestrel K-9")]
    assert xss and "review" in xss[0] and "script" not in xss[0], titles
    assert "Mallory Nightshade" in creators and "Ann Other" in creators, creators
    assert "Feed title" in titles
    # text that only looks like markup survives, escaped for an HTML reader
    assert inert_text("Lens & Light <Magazine>") == "Lens & Light &lt;Magazine&gt;"
    assert inert_text("<svg onload=alert(1)>Ann <b>Other</b>") == "Ann Other"
    assert inert_text("a <script>alert(1)</script> b") == "a b"
