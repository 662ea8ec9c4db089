"""extract_article on small inline pages: body, metadata, site rules, no-article pages, and
inputs that must never raise anything but NoArticle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.errors import NoArticle
from aggregator.extract import extract_article, parse_document
from aggregator.models import Entry, SiteRule

URL = "https://news.example.com/2024/03/05/lens-launch"

PARA = ("The company said the new lens, which weighs 540 grams, will ship in April with a "
        "weather-sealed barrel, a new linear motor and an aperture ring that can be declicked.")


def page(body: str, head: str = "", lang: str = "en") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
            f"<body>{body}</body></html>")


CLUTTER = """
<header class="site-header"><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies?</div>
"""

ARTICLE = page(
    CLUTTER + f"""
<main><article>
  <h1>Kestrel Optics unveils 35mm f/1.4 lens</h1>
  <div class="byline">By <a href="/authors/jane">Jane Doe</a> and Tom Li | Staff Writers</div>
  <time datetime="2024-03-05T09:30:00+01:00">March 5, 2024</time>
  <div class="share-bar"><a href="#">Share on X</a> <a href="#">Share on Facebook</a></div>
  <div class="article-body">
    <p>{PARA}</p>
    <h2>Price and availability</h2>
    <p>It costs $1,199. {PARA}</p>
    <ul><li>Weight: 540 grams, a little lighter than the previous model of the lens</li>
        <li>Filter thread: 67 mm, shared with the rest of the company's prime line-up</li></ul>
    <blockquote><p>We wanted a lens that disappears in the hand, said the product lead.</p>
    </blockquote>
    <div class="newsletter-signup"><p>Sign up for our newsletter to get the best camera
      deals in your inbox every single week, for free.</p></div>
    <p>{PARA}</p>
  </div>
  <aside class="related"><h3>Related</h3><ul><li><a href="/a">Another lens review</a></li>
     <li><a href="/b">Camera of the year announced today</a></li></ul></aside>
</article></main>
<section id="comments" class="comments"><p>Great lens, cannot wait to buy one. {PARA}</p>
</section>
<footer class="site-footer"><p>Copyright 2024 Photo News. All rights reserved.</p></footer>
""",
    head="""
<title>Kestrel Optics unveils 35mm f/1.4 lens | Photo News</title>
<meta property="og:site_name" content="Photo News">
<meta property="og:image" content="/img/lens.jpg">
<meta property="article:section" content="Lenses">
<meta property="article:tag" content="Kestrel"><meta property="article:tag" content="lenses">
<meta name="description" content="A fast, light prime for full-frame mirrorless cameras.">
<link rel="canonical" href="/2024/03/05/lens-launch">
""",
)


def test_article_body_and_metadata() -> None:
    art = extract_article(ARTICLE, URL)
    assert art.title == "Kestrel Optics unveils 35mm f/1.4 lens"
    assert art.authors == ("Jane Doe", "Tom Li")
    assert art.published == datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert art.canonical_url == "https://news.example.com/2024/03/05/lens-launch"
    assert art.language == "en"
    assert art.site_name == "Photo News"
    assert art.image is not None and art.image.url == "https://news.example.com/img/lens.jpg"
    assert art.section == "Lenses"
    assert art.tags == ("Kestrel", "lenses")
    assert art.summary == "A fast, light prime for full-frame mirrorless cameras."
    paragraphs = art.text.split("\n\n")
    assert paragraphs[0] == PARA
    assert "Price and availability" in paragraphs
    assert any(p.startswith("Weight: 540 grams") for p in paragraphs)
    assert any(p.startswith("We wanted a lens") for p in paragraphs)
    for clutter in ("Share on", "newsletter", "cookies", "Another lens review", "Home",
                    "Copyright", "Great lens", "Staff Writers"):
        assert clutter not in art.text, clutter
    assert "<h2>Price and availability</h2>" in art.html
    assert "<blockquote>" in art.html and "<li>" in art.html
    assert "<script" not in art.html


def test_html_is_sanitized() -> None:
    html = page(f'<article><p onclick="evil()">{PARA} <a href="javascript:alert(1)">x</a></p>'
                f'<p>{PARA}<script>alert(1)</script></p></article>')
    art = extract_article(html, URL)
    assert "onclick" not in art.html and "javascript:" not in art.html
    assert "alert" not in art.html and "alert" not in art.text


def test_jsonld_metadata() -> None:
    head = """<title>Ignored title - Lens &amp; Light</title>
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Lens & Light"},
      {"@type": "NewsArticle", "headline": "Mirrorless sales rise again",
       "datePublished": "2024-02-01T08:00:00Z", "dateModified": "2024-02-02T10:00:00Z",
       "author": [{"@type": "Person", "name": "Ana Costa"},
                  {"@type": "Organization", "name": "Lens & Light"}],
       "publisher": {"@type": "Organization", "name": "Lens & Light"},
       "image": {"@type": "ImageObject", "url": "https://cdn.example/a.jpg",
                 "caption": "A camera", "creditText": "Photo: Kim Park"},
       "articleSection": "Industry", "keywords": ["sales", "mirrorless"],
       "inLanguage": "pt-BR"}]}</script>"""
    art = extract_article(page(f"<article><p>{PARA}</p><p>{PARA}</p></article>", head=head,
                               lang=""), URL)
    assert art.title == "Mirrorless sales rise again"
    assert art.authors == ("Ana Costa",)
    assert art.published == datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
    assert art.modified == datetime(2024, 2, 2, 10, 0, tzinfo=UTC)
    assert art.site_name == "Lens & Light"
    assert art.image is not None and art.image.caption == "A camera"
    assert art.image.credit == "Photo: Kim Park"
    assert art.section == "Industry" and art.tags == ("sales", "mirrorless")
    assert art.language == "pt"  # primary subtag


def test_entry_fills_gaps_and_page_date_wins() -> None:
    html = page(f"<article><p>{PARA}</p><p>{PARA}</p></article>")
    entry = Entry(url=URL, title="Feed title", published=datetime(2020, 1, 1, tzinfo=UTC),
                  authors=("By Feed Author",))
    art = extract_article(html, "https://example.org/story", entry=entry)
    assert art.title == "Feed title"
    assert art.published == datetime(2020, 1, 1, tzinfo=UTC)
    assert art.authors == ("Feed Author",)
    dated = page(f'<article><time datetime="2024-01-02">2 Jan</time><p>{PARA}</p>'
                 f"<p>{PARA}</p></article>")
    assert extract_article(dated, URL, entry=entry).published == datetime(2024, 1, 2,
                                                                          tzinfo=UTC)


def test_author_attributions_without_attribution_module(monkeypatch) -> None:
    import aggregator.extract.article as article_module

    monkeypatch.setattr(article_module, "_attribution_hook", None)
    art = extract_article(ARTICLE, URL)
    assert [(a.kind, a.name) for a in art.attributions] == [("author", "Jane Doe"),
                                                             ("author", "Tom Li")]


def test_attribution_errors_do_not_cost_the_article(monkeypatch) -> None:
    import aggregator.extract.article as article_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(article_module, "_attribution_hook", broken)
    art = extract_article(ARTICLE, URL)
    assert art.attributions[0].name == "Jane Doe"


def test_attribution_gets_full_tree_and_body(monkeypatch) -> None:
    import aggregator.extract.article as article_module

    seen = {}

    def spy(root, body, url, authors):
        seen.update(root=root, body=body, url=url, authors=authors)
        return ()

    monkeypatch.setattr(article_module, "_attribution_hook", spy)
    extract_article(ARTICLE, URL)
    assert seen["root"].tag == "html"
    assert seen["root"].find(".//div[@class='share-bar']") is not None  # not stripped
    assert seen["body"] is not None and PARA in seen["body"].text_content()
    assert seen["url"] == URL and tuple(seen["authors"]) == ("Jane Doe", "Tom Li")


# --------------------------------------------------------------------------- no article

@pytest.mark.parametrize("html", ["", b"", "   \n ", b"\xef\xbb\xbf", "<html></html>",
                                  "<html><body><p>Hi</p></body></html>"])
def test_empty_documents(html) -> None:
    with pytest.raises(NoArticle) as info:
        extract_article(html, URL)
    assert info.value.reason and info.value.url == URL


def test_index_page() -> None:
    teasers = "".join(
        f'<article class="teaser"><h2><a href="/news/story-{i}.html">Story number {i} about '
        f'cameras</a></h2><p>Short teaser text for story {i}, about a camera.</p></article>'
        for i in range(8))
    html = page(f'<main><h1>Latest news</h1>{teasers}<a class="next" href="/p2">Next</a></main>',
                head='<meta property="og:type" content="website"><title>News</title>')
    with pytest.raises(NoArticle, match="index page"):
        extract_article(html, "https://news.example.com/news/")


def test_not_found_page() -> None:
    html = page("<main><h1>Page not found</h1><p>Sorry, the page you were looking for does not "
                "exist. Try the search or go back to the home page.</p></main>",
                head="<title>404 Not Found | Photo News</title>")
    with pytest.raises(NoArticle, match="not found"):
        extract_article(html, URL)


def test_video_only_page() -> None:
    html = page('<main><h1>Hands-on video</h1><video src="/v.mp4" controls></video>'
                '<p>Watch the video.</p></main>',
                head='<meta property="og:type" content="video.other">')
    with pytest.raises(NoArticle, match="video"):
        extract_article(html, URL)


# --------------------------------------------------------------------------- robustness

ROBUST_INPUTS = {
    "unclosed": f"<html><body><div><p>{PARA}<p>{PARA}<div><b><i>{PARA}</body>",
    "garbage": "<<<>>><p</p><div =='>\x00\x01 <a href=\"\">" * 50,
    "binary": bytes(range(256)) * 100,
    "nul": f"<html><body><article><p>{PARA}\x00</p><p>{PARA}</p></article></body></html>",
    "xml-decl": f'<?xml version="1.0" encoding="utf-8"?><html><body><p>{PARA}</p><p>{PARA}</p>'
                "</body></html>",
    "deep": "<div>" * 10_000 + f"<p>{PARA}</p><p>{PARA}</p>" + "</div>" * 10_000,
    "deep-unclosed": "<div><span>" * 10_000 + PARA,
    "mixed-encodings": (f"<html><head><meta charset='utf-8'></head><body><p>{PARA} Müller "
                        "</p>").encode() + "<p>Café Zoë naïve</p>".encode("cp1252") * 3
                       + f"<p>{PARA}</p></body></html>".encode("utf-16"),
    "bad-charset": b'<meta charset="no-such-charset"><p>' + PARA.encode() * 2 + b"</p>",
    "frameset": "<html><frameset><frame src='a.html'></frameset></html>",
    "only-script": "<script>" + "x" * 100_000 + "</script>",
    "huge-attr": f'<p class="{"a" * 1_000_000}">{PARA}</p>',
    "bad-jsonld": '<script type="application/ld+json">{"@type": "Article", "author": [[[{]]'
                  f"</script><p>{PARA}</p><p>{PARA}</p>",
    "weird-dates": f'<meta property="article:published_time" content="0000-99-99T99:99">'
                   f'<time datetime="tomorrow">x</time><p>{PARA}</p><p>{PARA}</p>',
}


@pytest.mark.parametrize("name", sorted(ROBUST_INPUTS))
def test_never_raises_anything_but_no_article(name: str) -> None:
    try:
        art = extract_article(ROBUST_INPUTS[name], URL)
    except NoArticle as exc:
        assert exc.reason
    else:
        assert isinstance(art.text, str)


def test_deep_nesting_keeps_text() -> None:
    art = extract_article(ROBUST_INPUTS["deep"], URL)
    assert PARA in art.text


def test_five_megabyte_page() -> None:
    long_para = " ".join([PARA] * 12)
    filler = f"<div class='post'><p>{long_para}</p></div>" * (5_000_000 // 2000)
    html = page(f"<article>{filler}</article><nav>{'<a href=/x>link</a>' * 2000}</nav>")
    assert len(html) > 5_000_000
    art = extract_article(html.encode(), URL)
    assert art.text.count(long_para) > 2000


def test_parse_document_is_shared_entry_point() -> None:
    root = parse_document(b"\xef\xbb\xbf<html><body><p>x</p></body></html>")
    assert root.tag == "html" and root.findtext(".//p") == "x"
    with pytest.raises(NoArticle):
        parse_document("")


# --------------------------------------------------------------------------- encodings

def test_legacy_charset_from_meta_and_header() -> None:
    body = (f"<article><h1>Grüße aus Köln</h1><p>Der Fotograf Jürgen Müller über seine "
            f"Lieblingsobjektive für die Straßenfotografie. {PARA}</p><p>{PARA}</p></article>")
    meta = page(body, head="", lang="de").replace('<meta charset="utf-8">',
                                                 '<meta charset="windows-1252">')
    art = extract_article(meta.encode("cp1252"), URL)
    assert "Jürgen Müller" in art.text and "Straßenfotografie" in art.text
    bare = page(body, lang="de").replace('<meta charset="utf-8">', "")
    art = extract_article(bare.encode("iso-8859-1"), URL, header_charset="ISO-8859-1")
    assert "Jürgen Müller" in art.text


# --------------------------------------------------------------------------- site rules

def test_site_rules_body_drop_author_date_title() -> None:
    html = page(f"""
      <div class="promo"><p>{PARA} PROMO</p><p>{PARA} PROMO</p><p>{PARA} PROMO</p></div>
      <div class="story"><span class="kicker">EXCLUSIVE</span><p>{PARA}</p>
        <p class="ad-note">Sponsored words here that would otherwise look like text.</p></div>
      <span class="who">Written by Ada Lovelace</span><span class="when">2023-07-08 14:00</span>
      <div class="headline">The real headline</div>""", head="<title>Other | Site</title>")
    rule = SiteRule(match="news.example.com/2024", body=(".story",),
                    drop=(".kicker", ".ad-note"), author=(".who",), date=(".when",),
                    title=(".headline",))
    art = extract_article(html, URL, rules=[SiteRule(match="other.org", body=(".x",)), rule])
    assert art.text == PARA
    assert art.authors == ("Ada Lovelace",)
    assert art.published == datetime(2023, 7, 8, 14, 0, tzinfo=UTC)
    assert art.title == "The real headline"
    # The rule's path prefix does not match: generic extraction, promo text included.
    generic = extract_article(html, "https://news.example.com/2023/x", rules=[rule])
    assert "PROMO" in generic.text


def test_bad_selector_in_rule_is_ignored() -> None:
    html = page(f"<article><p>{PARA}</p><p>{PARA}</p></article>")
    rule = SiteRule(match="news.example.com", body=("div[[[",), drop=(">>>",))
    assert PARA in extract_article(html, URL, rules=[rule]).text


def test_byline_of_related_stories_is_not_an_author() -> None:
    html = page(f"""<article><h1>Lens news today</h1>
      <div class="meta"><span class="byline">By <a rel="author" href="/a/x">Ana Costa</a></span>
      </div><div class="body"><p>{PARA}</p><p>{PARA}</p></div></article>
      <section class="more"><div><h3><a href="/s1">Other story</a></h3>
      <span class="byline">By Bob Stone</span></div></section>""")
    assert extract_article(html, URL).authors == ("Ana Costa",)


def test_share_bar_and_comment_heading_are_left_out() -> None:
    html = page(f"""<article><h1>Lens news today</h1>
      <div class="tools"><a href="https://www.facebook.com/sharer.php?u=x">Auf Facebook</a> |
      <a href="https://twitter.com/intent/tweet?url=x">Twittern</a></div>
      <p>{PARA}</p><p>{PARA}</p><h3>Leave a comment</h3></article>""")
    text = extract_article(html, URL).text
    assert "Facebook" not in text and "Twittern" not in text and "comment" not in text


def test_jsonld_in_cdata_is_read() -> None:
    head = """<script type="application/ld+json">//<![CDATA[
      {"@type": "NewsArticle", "headline": "Lens news today",
       "datePublished": "2024-02-01T08:00:00Z",
       "author": {"@type": "Person", "name": "Ana Costa"}}
    //]]></script>"""
    art = extract_article(page(f"<article><h1>Lens news today</h1><p>{PARA}</p><p>{PARA}</p>"
                               "<div class='byline'>By Ana Costa, Senior Staff Technologist, "
                               "Photo Desk</div></article>", head=head), URL)
    assert art.authors == ("Ana Costa",)
    assert art.published == datetime(2024, 2, 1, 8, 0, tzinfo=UTC)


def test_byline_parts_that_are_not_names_are_skipped() -> None:
    html = page(f"""<article><h1>Lens news today</h1>
      <div class="author">By <a href="/a/ben">Ben Silverman</a>
        <div class="author-title">Games Editor</div>
        <span class="byline-date">March 5, 2024</span></div>
      <p>{PARA}</p><p>{PARA}</p></article>""")
    assert extract_article(html, URL).authors == ("Ben Silverman",)


def test_first_author_meta_wins_and_byl_is_read() -> None:
    body = f"<article><h1>Lens news today</h1><p>{PARA}</p><p>{PARA}</p></article>"
    both = ('<meta name="author" content="Someone Else">'
            '<meta property="dc:creator twitter:site_name" content="Ana Costa">')
    assert extract_article(page(body, head=both), URL).authors == ("Ana Costa",)
    url_first = ('<meta name="author" content="https://example.org/staff/7">'
                 '<meta property="article:author" content="Ana Costa">')
    assert extract_article(page(body, head=url_first), URL).authors == ("Ana Costa",)
    byl = '<meta name="byl" content="By Corey Kilgannon">'
    assert extract_article(page(body, head=byl), URL).authors == ("Corey Kilgannon",)


def test_title_is_the_metadata_title_that_agrees_with_the_visible_headline() -> None:
    body = f"<article><h1>The deck of cards that made tarot famous</h1><p>{PARA}</p></article>"
    head = """<meta property="og:title" content="You know these cards because of 3 people">
    <script type="application/ld+json">{"@type": "NewsArticle",
      "headline": "The deck of cards that made tarot famous"}</script>"""
    assert extract_article(page(body, head=head), URL).title == (
        "The deck of cards that made tarot famous")
    # a word of difference is still agreement: the metadata title is kept
    body = f"<article><h1>How we designed Dropbox ATF: an async framework</h1><p>{PARA}</p>"
    head = '<meta property="og:title" content="How we designed Dropbox’s ATF - an async framework">'
    assert extract_article(page(body, head=head), URL).title == (
        "How we designed Dropbox’s ATF - an async framework")
    # no headline on the page: Dublin Core, then OpenGraph, then Parse.ly, then <title>
    body = f"<article><p>{PARA}</p><p>{PARA}</p></article>"
    head = ('<meta property="og:title" content="A title">'
            '<meta property="x:title dc:title" content="Preferred title">')
    assert extract_article(page(body, head=head), URL).title == "Preferred title"
    head = '<meta name="parsely-title" content="Lens maker opens a plant">'
    assert extract_article(page(body, head=head), URL).title == "Lens maker opens a plant"


def test_organisation_authors_when_nobody_signs_and_agencies_stay_upper() -> None:
    body = f"<article><h1>Lens news today</h1><p>{PARA}</p><p>{PARA}</p></article>"
    head = """<script type="application/ld+json">{"@type": "NewsArticle",
      "author": {"@type": "Organization", "name": "Reuters"},
      "publisher": {"@type": "Organization", "name": "Daily Lens"}}</script>"""
    assert extract_article(page(body, head=head), URL).authors == ("Reuters",)
    # the outlet itself as the stated author: kept when nobody signs, never over a byline
    own = head.replace('"Reuters"', '"Daily Lens"')
    assert extract_article(page(body, head=own), URL).authors == ("Daily Lens",)
    signed = body.replace("</h1>", '</h1><p class="byline">By Ana Costa</p>')
    assert extract_article(page(signed, head=own), URL).authors == ("Ana Costa",)
    meta = ('<meta property="og:site_name" content="BBC News">'
            '<meta property="og:article:author" content="BBC News">')
    assert extract_article(page(body, head=meta), URL).authors == ("BBC News",)
    # a site name nobody states as the author is not made one
    assert extract_article(page(body, head=meta.split("<meta property=\"og:article")[0]),
                           URL).authors == ()
    body = (f'<article><h1>Lens news today</h1><span class="author">By AFP</span>'
            f"<p>{PARA}</p></article>")
    assert extract_article(page(body), URL).authors == ("AFP",)


def test_byline_of_the_next_story_on_a_multi_story_page_is_not_an_author() -> None:
    story = f"<p>{PARA} {PARA}</p>"
    body = (f'<div class="col"><h1>Weekly edition</h1><div class="FeatureByline">By <b>Nathan '
            f'Willis</b></div>{story}{story}<h2>Next story</h2><div class="FeatureByline">By '
            f"<b>Jonathan Corbet</b></div>{story}</div>")
    assert extract_article(page(body), URL).authors == ("Nathan Willis",)


def test_jsonld_headline_that_disagrees_with_title_and_h1_is_not_the_title() -> None:
    head = """<title>Hermitian matrix - Wikipedia</title>
    <script type="application/ld+json">{"@type": "Article",
      "headline": "matrix equal to its conjugate-transpose"}</script>"""
    html = page(f"<h1>Hermitian matrix</h1><article><p>{PARA}</p><p>{PARA}</p></article>",
                head=head)
    assert extract_article(html, URL).title == "Hermitian matrix"


def test_story_inside_an_aside_wrapper_or_ad_widget_named_wrapper_is_kept() -> None:
    # layouts that wrap the whole story in <aside> or in a div named after an ad widget
    aside = page(f"""<nav><a href="/">Home</a></nav><aside class="page-wrap">
      <article><h1>Lens news today</h1><p>{PARA}</p><p>{PARA}</p></article></aside>
      <aside class="sidebar"><p>Short teaser text for another story here.</p></aside>""")
    assert PARA in extract_article(aside, URL).text
    wrapper = page(f"""<div id="theme-taboola"><main><article><h1>Lens news today</h1>
      <p>{PARA}</p><p>{PARA}</p></article></main></div>""")
    assert PARA in extract_article(wrapper, URL).text


def test_the_headline_anchors_the_story_against_a_longer_teaser_stream() -> None:
    # The story's block carries much furniture (short link lines) and a stream of teasers
    # beside it has more paragraph text: the stream must not win over the headline's story.
    teaser = ("A longer teaser paragraph about another story entirely, with enough words in it "
              "to look like article text to a scorer that only counts paragraph characters.")
    stream = "".join(f"<li><p>{teaser} {i}</p></li>" for i in range(12))
    furniture = "".join(f"<li><a href='/t{i}'>Topic number {i}</a></li>" for i in range(60))
    html = page(f"""<div class="col-main"><section class="story"><header><h1>Lens news
      today</h1><div class="byline">By Ana Costa</div><ul class="topics">{furniture}</ul>
      </header><div class="story-text">{f"<p>{PARA}</p>" * 6}</div></section></div>
      <div class="col-side"><ul class="stream">{stream}</ul></div>""",
                head="<title>Lens news today</title>")
    art = extract_article(html, URL)
    assert PARA in art.text and teaser not in art.text


def test_story_opened_in_a_modal_is_extracted_with_its_own_byline() -> None:
    # a page that shows the story in an overlay above a stream of other content: the
    # wrappers' class names say "modal", and comment signatures come first in the document
    stream = "".join(f'<li><h3><a href="/n/{i}">Town bake sale number {i} raises funds</a>'
                     f'</h3><div class="byline">J J</div><p>Readers wrote in.</p></li>'
                     for i in range(6))
    body = (f'<ul id="stream">{stream}</ul><div class="render-target-modal">'
            f'<div class="modal-canvas"><article><header><h1>Cargo ship breaks up over '
            f'Siberia</h1></header><div class="auth"><div class="author">NATALIYA VASILYEVA'
            f'</div></div>{f"<p>{PARA}</p>" * 8}'
            f"</article></div></div>")
    article = extract_article(page(body), URL)
    assert article.authors == ("Nataliya Vasilyeva",)
    assert article.text.count("weather-sealed barrel") == 8
    assert "bake sale" not in article.text


LEAD = ("Heat pumps sold 42 percent more last year than the year before, the industry "
        "association reported on Monday, and it expects the growth to continue.")


@pytest.mark.parametrize("header", [
    # a lead class beside the body container, also when the body is marked articleBody
    f'<div class="teaser-text"><p>{LEAD}</p></div>',
    # a lead class inside the article's header block
    f'<header class="article-header"><h1>Lens news today</h1><p class="ts-intro">{LEAD}</p>'
    "</header>",
    # no class at all: the first sentence-sized paragraph after the headline
    f"<header><h1>Lens news today</h1><p>{LEAD}</p></header>",
])
def test_the_standfirst_before_the_body_is_kept(header: str) -> None:
    html = page(f"""<main><article>{header}<div class="meta">March 5</div>
      <div class="article-body" itemprop="articleBody"><p>{PARA}</p><p>{PARA}</p>
      <p>{PARA}</p></div></article></main>""", head="<title>Lens news today</title>")
    text = extract_article(html, URL).text
    assert LEAD in text and PARA in text
    assert text.index(LEAD) < text.index(PARA)


def test_a_whole_header_is_not_taken_for_a_lead() -> None:
    html = page(f"""<main><article><div class="article-lede"><h1>Lens news today</h1>
      <p>{LEAD}</p><div class="byline">By Ana Costa</div><time>March 5, 2024</time></div>
      <div class="article-body"><p>{PARA}</p><p>{PARA}</p><p>{PARA}</p></div></article>
      </main>""", head="<title>Lens news today</title>")
    assert "Ana Costa" not in extract_article(html, URL).text


@pytest.mark.parametrize("label", ["Das könnte Sie auch interessieren", "Lesen Sie auch:",
                                   "Related Coverage", "Zurück zur Übersicht", "4 min read",
                                   "Zobacz także", "Veja também:", "À lire aussi"])
def test_box_labels_are_left_out(label: str) -> None:
    html = page(f"""<article><h1>Lens news today</h1><div class="article-body"><p>{PARA}</p>
      <h3>{label}</h3><p>{PARA} Again.</p></div></article>""")
    text = extract_article(html, URL).text
    assert label not in text and "Again." in text


def test_an_unclosed_nav_around_the_page_does_not_hide_the_story() -> None:
    html = page(f"""<header><nav class="navbar"><ul><li><a href="/">Home</a></li></ul>
      <main><article><h1>Lens news today</h1><p>{PARA}</p><p>{PARA}</p></article></main>""")
    assert PARA in extract_article(html, URL).text


def test_a_part_word_in_a_class_beats_the_article_word_beside_it() -> None:
    html = page(f"""<article><h1>Lens news today</h1><div class="entry-content"><p>{PARA}</p>
      <p>{PARA}</p><div class="entry-footer">This entry was posted in News and tagged
      lenses by the editors of this fine publication.</div></div></article>""")
    assert "This entry was posted" not in extract_article(html, URL).text


@pytest.mark.parametrize("promo", [
    "Lea también: Impiden ingreso a Nicaragua a reportero y camarógrafo",
    "LESEN SIE AUCH: Die besten Objektive des Jahres im Vergleich",
    "[Read: Why the lens market shrank for the third year running]",
    "Subscribe now to our eNATION edition for the full story.",
    "To view the full story, please subscribe to The Daily Lens.",
    "Follow The Daily Lens on Twitter and Instagram @dailylens for more.",
    "Síguenos en Telegram, Instagram, Facebook y Twitter",
])
def test_promotion_lines_inside_the_story_are_left_out(promo: str) -> None:
    html = page(f"""<article><h1>Lens news today</h1><div class="article-body"><p>{PARA}</p>
      <p><strong>{promo}</strong></p><p>{PARA} Again.</p></div></article>""")
    text = extract_article(html, URL).text
    assert promo not in text and "Again." in text


def test_a_sentence_that_merely_starts_like_a_promotion_is_kept() -> None:
    lines = ["Read the manual first, the company said, because the menus have changed.",
             "More details: the camera ships in May with two batteries, Kestrel said.",
             "Subscribers to the service get the firmware a week early, Kestrel said.",
             "Follow-up reports suggested the shortage would last into the summer."]
    html = page(f"""<article><h1>Lens news today</h1><div class="article-body"><p>{PARA}</p>
      {"".join(f"<p>{x}</p>" for x in lines)}<p>{PARA} Again.</p></div></article>""")
    text = extract_article(html, URL).text
    assert all(x in text for x in lines)


def test_a_utility_class_does_not_protect_an_author_bio() -> None:
    # Tailwind-style pages: "lg:text-lg" says how the text looks, not that it is the story
    bio = "Ana Costa has covered cameras since 2009 and holds a degree in optics."
    html = page(f"""<article><h1>Lens news today</h1><div class="mx-auto text-gray-700">
      <p>{PARA}</p><p>{PARA}</p><div class="author-bio mt-2 lg:text-lg">{bio}</div></div>
      </article>""")
    text = extract_article(html, URL).text
    assert bio not in text and PARA in text


def test_text_escaped_twice_by_the_cms_is_read_as_characters() -> None:
    para = ("A opera&amp;ccedil;&amp;atilde;o da pol&amp;iacute;cia come&amp;ccedil;ou "
            "cedo, e os agentes cumpriram mandados em tr&amp;ecirc;s bairros da cidade.")
    html = page(f"<article><h1>Lens news today</h1><p>{para}</p><p>{PARA}</p></article>")
    art = extract_article(html, URL)
    assert "A operação da polícia começou cedo" in art.text and "&" not in art.text
    assert "&amp;ccedil;" not in art.html and ("ç" in art.html or "&ccedil;" in art.html)
    # one literal entity in a story about HTML is left alone
    html = page(f"<article><h1>Lens news today</h1><p>Write &amp;amp; for an ampersand. "
                f"{PARA}</p><p>{PARA}</p></article>")
    assert "&amp; for an ampersand" in extract_article(html, URL).text


def test_a_paywalled_article_showing_one_sentence_is_not_an_index_page() -> None:
    related = "".join(f'<li><h3><a href="/news/{i}">Other story number {i} of the day</a></h3>'
                      "</li>" for i in range(8))
    sentence = ("A senior prison official has said in a sworn affidavit that anyone could "
                "escape from the prison.")
    html = page(f"""<article><h1>Prison official: anyone could escape</h1><div class="content">
      <p>{sentence}</p><div id="pay-barrier"></div></div></article><ul>{related}</ul>""",
                head='<meta property="og:type" content="article">')
    assert extract_article(html, URL).text == sentence


def test_a_sharing_title_that_disagrees_with_the_page_title_and_headline_gives_way() -> None:
    # <title> and the JSON-LD headline agree; og:title is a variant written for sharing
    head = """<title>How to watch the 21 best films of 2017 - Vox</title>
    <meta property="og:site_name" content="Vox">
    <meta property="og:title" content="The 21 best movies of 2017">
    <script type="application/ld+json">{"@type": "NewsArticle",
      "headline": "How to watch the 21 best films of 2017"}</script>"""
    html = page(f"<article><h1>The 21 best movies of 2017</h1><p>{PARA}</p></article>",
                head=head)
    assert extract_article(html, URL).title == "How to watch the 21 best films of 2017"
