"""Table tests for canonical URL forms and the choice of an article's canonical URL."""

from __future__ import annotations

import pytest

from aggregator.dedup.urls import (
    DEFAULT_TRACKING_PARAMS,
    canonical_url,
    choose_canonical,
    is_tracking_param,
    registrable_site,
)

CANONICAL = [
    # case, default port, fragment, dot segments
    ("HTTP://WWW.Example.COM:80/a/./b/../c#frag", "http://example.com/a/c"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com:443/x", "http://example.com:443/x"),
    ("https://user:pw@example.com/x", "https://example.com/x"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com.", "https://example.com/"),
    # tracking parameters, sorted query, empty query
    ("https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"),
    ("https://example.com/a?b=2&utm_campaign=x&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?fbclid=1&gclid=2&dclid=3&msclkid=4&mc_cid=5&mc_eid=6",
     "https://example.com/a"),
    ("https://example.com/a?ref=tw&ref_src=twsrc&igshid=x&_ga=1&yclid=2&spm=a&cmpid=9",
     "https://example.com/a"),
    ("https://example.com/a?UTM_Source=x&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?", "https://example.com/a"),
    ("https://example.com/a?&&", "https://example.com/a"),
    ("https://example.com/a?tag=b&tag=a&page=2", "https://example.com/a?page=2&tag=b&tag=a"),
    ("https://example.com/a?flag", "https://example.com/a?flag"),
    ("https://example.com/a?q=", "https://example.com/a?q="),
    ("https://example.com/search?q=a+b", "https://example.com/search?q=a+b"),
    # percent-encoding
    ("https://example.com/%7euser/%2fx", "https://example.com/~user/%2Fx"),
    ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
    ("https://example.com/café ok", "https://example.com/caf%C3%A9%20ok"),
    ("https://example.com/a?q=%e2%82%ac", "https://example.com/a?q=%E2%82%AC"),
    # IDNA
    ("https://Fotoblog-Müller.DE/x", "https://xn--fotoblog-mller-psb.de/x"),
    ("https://xn--fotoblog-mller-psb.de/x", "https://xn--fotoblog-mller-psb.de/x"),
    # AMP and mobile variants
    ("https://example.com/news/story/amp/", "https://example.com/news/story"),
    ("https://example.com/news/story/amp", "https://example.com/news/story"),
    ("https://example.com/amp/news/story", "https://example.com/news/story"),
    ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
    ("https://example.com/news/story?amp", "https://example.com/news/story"),
    ("https://example.com/news/story?outputType=amp", "https://example.com/news/story"),
    ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
    ("https://example.com/news/story.amp", "https://example.com/news/story"),
    ("https://example.com/news/ampere-lens", "https://example.com/news/ampere-lens"),
    ("https://m.example.com/a", "https://example.com/a"),
    ("https://mobile.example.com/a", "https://example.com/a"),
    ("https://amp.example.com/a", "https://example.com/a"),
    ("https://www.example.com/a", "https://example.com/a"),
    ("https://m.example.co.uk/a", "https://example.co.uk/a"),
    ("https://www.co.uk/a", "https://www.co.uk/a"),
    ("https://m.com/a", "https://m.com/a"),
    ("https://news.example.com/a", "https://news.example.com/a"),
    ("https://example-com.cdn.ampproject.org/c/s/example.com/a/amp/",
     "https://example.com/a"),
    # trailing slash
    ("https://example.com/news/", "https://example.com/news"),
    # loopback fixture server: port kept
    ("http://127.0.0.1:8123/wire/story.html?utm_source=rss&utm_medium=feed",
     "http://127.0.0.1:8123/wire/story.html"),
    ("http://[::1]:80/x", "http://[::1]/x"),
    # not http(s): left alone except scheme case and fragment
    ("MAILTO:a@b.c", "mailto:a@b.c"),
    ("not a url", "not a url"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonical_url_is_idempotent(url: str, expected: str) -> None:
    assert canonical_url(expected) == expected


def test_custom_tracking_params() -> None:
    assert canonical_url("https://e.com/a?src=x&id=1", tracking_params=["src"]) == \
        "https://e.com/a?id=1"
    # The default list does not apply when a custom one is given.
    assert canonical_url("https://e.com/a?utm_source=x", tracking_params=["src"]) == \
        "https://e.com/a?utm_source=x"
    assert canonical_url("https://e.com/a?ab_x=1&abc=2", tracking_params=["ab_*"]) == \
        "https://e.com/a?abc=2"


@pytest.mark.parametrize(("name", "expected"), [
    ("utm_source", True), ("utm_", True), ("UTM_MEDIUM", True), ("fbclid", True),
    ("ref", True), ("reference", False), ("id", False), ("page", False), ("q", False),
])
def test_is_tracking_param(name: str, expected: bool) -> None:
    assert is_tracking_param(name, DEFAULT_TRACKING_PARAMS) is expected


@pytest.mark.parametrize(("page", "declared", "expected"), [
    # same site: the declared URL wins (in canonical form)
    ("https://m.example.com/a/amp", "https://www.example.com/a/", "https://example.com/a"),
    ("https://example.com/a?utm_source=x", "https://example.com/a",
     "https://example.com/a"),
    ("https://news.example.com/a", "https://www.example.com/a", "https://example.com/a"),
    ("https://example.co.uk/a", "https://shop.example.co.uk/a", "https://shop.example.co.uk/a"),
    ("https://example.com/a", "/b?utm_source=1", "https://example.com/b"),
    # another site: ignored
    ("https://wire.example.net/a", "https://example.com/a", "https://wire.example.net/a"),
    ("https://a.co.uk/x", "https://b.co.uk/x", "https://a.co.uk/x"),
    # nothing usable declared
    ("https://example.com/a", None, "https://example.com/a"),
    ("https://example.com/a", "", "https://example.com/a"),
    ("https://example.com/a", "javascript:void(0)", "https://example.com/a"),
    # fixture server: several sites as path prefixes on one loopback host
    ("http://127.0.0.1:8123/wire/x.html", "http://127.0.0.1:8123/camerablog/x.html",
     "http://127.0.0.1:8123/wire/x.html"),
    ("http://127.0.0.1:8123/magazine/x.html?utm_source=a",
     "http://127.0.0.1:8123/magazine/news/x.html", "http://127.0.0.1:8123/magazine/news/x.html"),
    ("http://127.0.0.1:8123/magazine/x.html", "http://127.0.0.1:9999/magazine/x.html",
     "http://127.0.0.1:8123/magazine/x.html"),
])
def test_choose_canonical(page: str, declared: str | None, expected: str) -> None:
    assert choose_canonical(page, declared) == expected


def test_registrable_site() -> None:
    assert registrable_site("https://a.b.example.com/x") == "example.com"
    assert registrable_site("https://a.example.co.jp/x") == "example.co.jp"
    assert registrable_site("http://127.0.0.1:8000/wire/a") == "127.0.0.1:8000/wire"


def test_total_and_idempotent_on_junk() -> None:
    """Never raises, and a canonical form is its own canonical form, even for junk."""
    import random

    rnd = random.Random(1)
    parts = ["http://", "https://", "HTTP://", "ftp://", "//", "a.b", "www.", "m.", "[::1]",
             ":80", ":99999", ":x", "/", "/amp", "?", "&", "=", "#", "%", "%2", "%zz", "%41",
             "..", ".", "é", "ü", "\x00", " ", "utm_source=1", "amp=1", "a=b", "xn--", "-",
             ".com", "127.0.0.1", "@", "user:pw@"]
    for _ in range(3000):
        url = "".join(rnd.choice(parts) for _ in range(rnd.randint(1, 8)))
        form = canonical_url(url)
        assert canonical_url(form) == form, url
        choose_canonical(url, url[::-1])
