"""The fixture server: content types, validators, 304s, 404s, traversal, {{BASE}}, charsets."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.request
from email.utils import formatdate
from pathlib import Path

import pytest

from aggregator.fixture_server import FixtureServer, default_site_root

LEGACY = "Zoë Côté und Jürgen Müller – „Grüße“".encode("cp1252")


@pytest.fixture()
def site(tmp_path: Path):
    root = tmp_path / "site"
    (root / "blog" / "sub").mkdir(parents=True)
    (root / "private").mkdir()
    (root / "blog" / "index.html").write_text(
        '<html><a href="{{BASE}}/blog/post.html">post</a></html>', encoding="utf-8")
    (root / "blog" / "post.html").write_text(
        "<html><head><meta charset='utf-8'></head>"
        "<link rel=canonical href='{{BASE}}/blog/post.html'>café</html>", encoding="utf-8")
    (root / "blog" / "legacy.html").write_bytes(
        b'<html><head><meta charset="windows-1252"></head><body>{{BASE}} ' + LEGACY
        + b"</body></html>")
    (root / "blog" / "wrong.html").write_bytes(b"<html><body>" + LEGACY + b"</body></html>")
    (root / "blog" / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<link>{{BASE}}/blog/</link></channel></rss>", encoding="utf-8")
    (root / "blog" / "atom.xml").write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- c -->\n'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>M\xfcller</title></feed>')
    (root / "blog" / "broken.xml").write_text("<notes><note>unclosed", encoding="utf-8")
    (root / "blog" / "data.json").write_text('{"base": "{{BASE}}"}', encoding="utf-8")
    (root / "doc.pdf").write_bytes(b"%PDF-1.4\n{{BASE}}\n%%EOF\n")
    (root / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    (root / "private" / "secret.html").write_text("secret", encoding="utf-8")
    (root / "_headers.json").write_text(json.dumps({
        "/blog/wrong.html": {"Content-Type": "text/html; charset=iso-8859-1"},
    }), encoding="utf-8")
    (tmp_path / "outside.txt").write_text("outside the root", encoding="utf-8")
    with FixtureServer(root) as server:
        yield server


def get(server: FixtureServer, path: str, method: str = "GET", headers: dict | None = None):
    """A raw request (http.client does not normalise '..' away)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_base_url_and_url(site: FixtureServer) -> None:
    assert site.base_url.startswith("http://127.0.0.1:")
    assert site.port > 0
    assert site.url("/blog/post.html") == site.base_url + "/blog/post.html"
    assert site.url("blog/post.html") == site.base_url + "/blog/post.html"


@pytest.mark.parametrize(("path", "ctype"), [
    ("/blog/post.html", "text/html; charset=utf-8"),
    ("/blog/legacy.html", "text/html; charset=windows-1252"),
    ("/blog/feed.xml", "application/rss+xml; charset=utf-8"),
    ("/blog/atom.xml", "application/atom+xml; charset=iso-8859-1"),
    ("/blog/broken.xml", "application/xml; charset=utf-8"),
    ("/blog/data.json", "application/json; charset=utf-8"),
    ("/doc.pdf", "application/pdf"),
    ("/pic.png", "image/png"),
    ("/robots.txt", "text/plain; charset=utf-8"),
])
def test_content_types(site: FixtureServer, path: str, ctype: str) -> None:
    status, headers, _ = get(site, path)
    assert status == 200
    assert headers["content-type"] == ctype


def test_header_override(site: FixtureServer) -> None:
    _, headers, body = get(site, "/blog/wrong.html")
    assert headers["content-type"] == "text/html; charset=iso-8859-1"
    assert LEGACY in body


def test_base_token_replaced_in_text_only(site: FixtureServer) -> None:
    _, _, body = get(site, "/blog/post.html")
    assert f"href='{site.base_url}/blog/post.html'".encode() in body
    assert b"{{BASE}}" not in body
    _, _, data = get(site, "/blog/data.json")
    assert json.loads(data) == {"base": site.base_url}
    _, _, pdf = get(site, "/doc.pdf")
    assert b"{{BASE}}" in pdf  # binary files are served as they are


def test_legacy_charset_bytes_intact(site: FixtureServer) -> None:
    _, headers, body = get(site, "/blog/legacy.html")
    assert LEGACY in body
    assert site.base_url.encode() in body
    assert body.decode("cp1252").endswith("„Grüße“</body></html>")
    assert int(headers["content-length"]) == len(body)


def test_etag_and_304(site: FixtureServer) -> None:
    status, headers, body = get(site, "/blog/post.html")
    assert status == 200
    etag = headers["etag"]
    assert etag == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    assert not etag.startswith("W/")
    status, headers2, body2 = get(site, "/blog/post.html", headers={"If-None-Match": etag})
    assert status == 304 and body2 == b""
    assert headers2["etag"] == etag
    status, _, _ = get(site, "/blog/post.html", headers={"If-None-Match": '"other", ' + etag})
    assert status == 304
    status, _, body3 = get(site, "/blog/post.html", headers={"If-None-Match": '"stale"'})
    assert status == 200 and body3 == body


def test_last_modified_and_304(site: FixtureServer) -> None:
    file = site.root / "blog" / "post.html"
    os.utime(file, (1_773_000_000, 1_773_000_000))
    status, headers, _ = get(site, "/blog/post.html")
    assert headers["last-modified"] == formatdate(1_773_000_000, usegmt=True)
    status, _, body = get(site, "/blog/post.html",
                          headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304 and body == b""
    earlier = formatdate(1_772_000_000, usegmt=True)
    status, _, _ = get(site, "/blog/post.html", headers={"If-Modified-Since": earlier})
    assert status == 200
    status, _, _ = get(site, "/blog/post.html", headers={"If-Modified-Since": "garbage"})
    assert status == 200
    # If-None-Match wins over If-Modified-Since
    status, _, _ = get(site, "/blog/post.html", headers={
        "If-Modified-Since": headers["last-modified"], "If-None-Match": '"stale"'})
    assert status == 200


def test_head(site: FixtureServer) -> None:
    status, headers, body = get(site, "/blog/post.html", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) > 0


def test_404(site: FixtureServer) -> None:
    status, headers, body = get(site, "/blog/nope.html")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b"404" in body and b"</html>" in body
    assert get(site, "/_headers.json")[0] == 404


def test_directory_serves_index(site: FixtureServer) -> None:
    status, _, body = get(site, "/blog/")
    assert status == 200 and site.base_url.encode() in body
    status, headers, _ = get(site, "/blog")
    assert status == 301 and headers["location"] == "/blog/"
    assert get(site, "/blog/sub/")[0] == 404  # no index.html there


@pytest.mark.parametrize("path", [
    "/../outside.txt", "/blog/../../outside.txt", "/blog/%2e%2e/%2e%2e/outside.txt",
    "/blog/..%2f..%2foutside.txt",
])
def test_traversal_refused(site: FixtureServer, path: str) -> None:
    status, _, body = get(site, path)
    assert status in (403, 404)
    assert b"outside the root" not in body


def test_query_string_ignored_and_hits_counted(site: FixtureServer) -> None:
    site.reset_hits()
    for _ in range(2):
        assert get(site, "/blog/post.html?utm_source=rss&utm_medium=feed")[0] == 200
    get(site, "/blog/missing.html")
    assert site.hits["/blog/post.html"] == 2
    assert site.hit_count("/blog/missing.html") == 1


def test_urllib_client_and_robots(site: FixtureServer) -> None:
    with urllib.request.urlopen(site.url("/robots.txt"), timeout=5) as resp:  # loopback only
        assert b"Disallow: /private/" in resp.read()


def test_not_started_and_restart(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x", encoding="utf-8")
    server = FixtureServer(tmp_path)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    server.start()
    try:
        assert get(server, "/")[0] == 200
    finally:
        server.stop()
    server.stop()  # idempotent


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FixtureServer(tmp_path / "nope")


def test_default_site_root_and_real_site(fixture_site: FixtureServer) -> None:
    root = default_site_root()
    assert root.name == "site" and (root / "robots.txt").is_file()
    status, headers, body = get(fixture_site, "/robots.txt")
    assert status == 200 and b"Disallow: /private/" in body
    assert fixture_site.base_url.encode() in body


def test_hits_are_counted_under_concurrency(site: FixtureServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    site.reset_hits()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: get(site, "/blog/feed.xml")[0], range(40)))
    assert statuses == [200] * 40
    assert site.hits["/blog/feed.xml"] == 40


def test_real_site_legacy_pages_and_overrides(fixture_site: FixtureServer) -> None:
    overrides = json.loads((fixture_site.root / "_headers.json").read_text(encoding="utf-8"))
    assert overrides, "the fotoblog pages need header overrides"
    for path, headers in overrides.items():
        status, got, body = get(fixture_site, path)
        assert status == 200
        assert got["content-type"] == headers["Content-Type"]
        raw = (fixture_site.root / path.lstrip("/")).read_bytes()
        assert body == raw.replace(b"{{BASE}}", fixture_site.base_url.encode())
    status, got, body = get(fixture_site, "/fotoblog/rss.xml")
    assert got["content-type"] == "application/rss+xml; charset=iso-8859-1"
    assert "Jürgen Müller".encode("latin-1") in body
    _, got, _ = get(fixture_site, "/magazine/atom.xml")
    assert got["content-type"] == "application/atom+xml; charset=utf-8"
    _, got, _ = get(fixture_site, "/special/brochure.pdf")
    assert got["content-type"] == "application/pdf"
    status, _, body = get(fixture_site, "/special/page-not-found.html")
    assert status == 200 and b"Oops" in body
