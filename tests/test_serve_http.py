"""The feed/API server over real HTTP on loopback (httpx): routes, content types, 304s,
JSON errors, 400s for bad parameters, and cursor pagination while articles are added."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import etree
from outputs_data import article, assert_inert_html, make_store, save

from aggregator.serve import FeedServer
from aggregator.store import Store

STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


@pytest.fixture()
def served(tmp_path: Path):
    """A server on its own database, for tests that change it."""
    store = make_store(tmp_path)
    with FeedServer(store.path, "127.0.0.1", 0) as server, \
            httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client:
        yield server, client, store
    store.close()


@pytest.fixture(scope="module")
def ro(tmp_path_factory):
    """One server for the tests that only read."""
    store = make_store(tmp_path_factory.mktemp("ro"))
    with FeedServer(store.path, "127.0.0.1", 0) as server, \
            httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as client:
        yield server, client, store
    store.close()


@pytest.mark.parametrize("path, ctype", [
    ("/feeds/all.atom", "application/atom+xml"),
    ("/feeds/all.rss", "application/rss+xml"),
    ("/feeds/all.json", "application/feed+json"),
    ("/feeds/magazine.atom", "application/atom+xml"),
    ("/feeds/source/magazine.rss", "application/rss+xml"),
    ("/feeds/search.rss?q=sensor", "application/rss+xml"),
    ("/api/articles", "application/json"),
    ("/api/articles/1", "application/json"),
    ("/api/stories", "application/json"),
    ("/api/stories/1", "application/json"),
    ("/api/sources", "application/json"),
    ("/", "application/json"),
])
def test_routes_and_content_types(ro, path: str, ctype: str) -> None:
    _, client, _ = ro
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == ctype + "; charset=utf-8"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["etag"].startswith('"')
    assert "last-modified" in r.headers
    if ctype.endswith("xml"):
        etree.fromstring(r.content, STRICT)
        assert not feedparser.parse(r.content).bozo
    else:
        json.loads(r.content)
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == r.headers["etag"]


def test_feeds_group_stories_unless_all(ro) -> None:
    _, client, _ = ro
    grouped = feedparser.parse(client.get("/feeds/all.atom").content)
    every = feedparser.parse(client.get("/feeds/all.atom?all=1").content)
    assert len(grouped.entries) == 4 and len(every.entries) == 6
    mag = feedparser.parse(client.get("/feeds/magazine.json").content)
    feed = json.loads(client.get("/feeds/magazine.json").content)
    assert {i["_aggregator"]["source"] for i in feed["items"]} == {"magazine"}
    assert feed["title"] == "aggregator: Lens & Light <Magazine>"
    assert mag is not None
    search = json.loads(client.get("/feeds/search.json", params={"q": "lens roundup"}).content)
    assert [i["title"] for i in search["items"]] == ["Lens roundup for spring"]
    limited = feedparser.parse(client.get("/feeds/all.rss?limit=2").content)
    assert len(limited.entries) == 2
    recent = feedparser.parse(client.get("/feeds/all.atom?all=1&since=2026-04-01T10:00:00Z"
                                         ).content)
    assert len(recent.entries) == 5  # article 1 (09:00) is older
    assert len(feedparser.parse(client.get("/feeds/all.atom?since=2026-05-01").content
                                ).entries) == 0


def test_conditional_get(served) -> None:
    _, client, store = served
    r = client.get("/feeds/all.atom")
    etag, last = r.headers["etag"], r.headers["last-modified"]
    again = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/feeds/all.atom", headers={"If-None-Match": f'W/{etag}, "x"'}
                      ).status_code == 304
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": last}).status_code == 304
    assert client.get("/feeds/all.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": "yesterday-ish"}
                      ).status_code == 200
    # a new article changes both validators
    save(store, article(40, source="magazine"), "magazine",
         fetched=datetime(2026, 4, 11, 8, 0, tzinfo=UTC))
    changed = client.get("/feeds/all.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": last}).status_code == 200
    assert changed.headers["last-modified"] == "Sat, 11 Apr 2026 08:00:00 GMT"


@pytest.mark.parametrize("path, status", [
    ("/api/articles?limit=0", 400),
    ("/api/articles?limit=501", 400),
    ("/api/articles?limit=abc", 400),
    ("/api/articles?limit=1&limit=2", 400),
    ("/api/articles?since_id=-1", 400),
    ("/api/articles?since_id=99999999999999999999", 400),
    ("/api/articles?since_id=%F0%9F%93%B7", 400),
    ("/api/articles?q=%FF", 400),
    ("/api/articles?q=-only", 400),
    ("/api/articles?q=%22", 400),
    ("/api/articles/abc", 400),
    ("/api/articles/999", 404),
    ("/api/stories/abc", 400),
    ("/api/stories/99", 404),
    ("/feeds/search.atom", 400),
    ("/feeds/search.atom?q=", 400),
    ("/feeds/all.atom?all=maybe", 400),
    ("/feeds/all.atom?since=notadate", 400),
    ("/feeds/all.atom?since=2026-13-45", 400),
    ("/feeds/all.atom?limit=-3", 400),
    ("/feeds/nosuchsource.rss", 404),
    ("/feeds/source/all.rss", 404),
    ("/feeds/other/magazine.rss", 404),
    ("/feeds/all.xml", 404),
    ("/nothing/here", 404),
    ("/api/articles/%ZZ", 400),
    ("/api/articles?source=nosuch", 400),
    ("/api/articles?source=magazine&source=nosuch", 400),
    ("/api/articles?since=bad", 400),
    ("/api/articles?sinceid=5", 400),
    ("/api/stories?q=kestrel", 400),
    ("/api/sources?x=1", 400),
    ("/api/articles/1?full=1", 400),
    ("/feeds/all.atom?limt=5", 400),
    ("/?x=1", 400),
])
def test_errors_are_json(ro, path: str, status: int) -> None:
    _, client, _ = ro
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert body["error"]["status"] == status and body["error"]["message"]


def test_method_not_allowed(ro) -> None:
    _, client, _ = ro
    r = client.post("/api/articles", content=b"{}")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert r.json()["error"]["status"] == 405


def test_article_and_story_api(served) -> None:
    _, client, store = served
    art = client.get("/api/articles/1").json()
    assert art["id"] == 1 and art["story_id"] == 1 and art["source"] == "magazine"
    assert 'href="https://magazine.example/about"' in art["content_html"]
    story = client.get("/api/stories/1").json()
    assert story["articles"] == 3 and [m["id"] for m in story["members"]] == [1, 2, 3]
    stories = client.get("/api/stories").json()
    # every article has a story (most of one article); story 1 is the three-article one
    by_id = {s["id"]: s for s in stories["stories"]}
    assert by_id[1]["articles"] == 3 and stories["has_more"] is False
    assert all(s["articles"] == 1 for sid, s in by_id.items() if sid != 1)
    sources = client.get("/api/sources").json()["sources"]
    assert {s["name"] for s in sources} == {"camerablog", "magazine", "wire"}
    assert all(s["health"]["status"] == "never-checked" for s in sources)
    store.record_source_check("wire", now=datetime(2026, 4, 12, tzinfo=UTC), status=503,
                              ok=False, error="http: 503")
    store.record_error(source="wire", url="https://wire.example/rss.xml", kind="http",
                       message="503", now=datetime(2026, 4, 12, tzinfo=UTC))
    wire = next(s for s in client.get("/api/sources").json()["sources"] if s["name"] == "wire")
    assert wire["health"]["status"] == "failing"
    assert wire["health"]["error_streak"] == 1 and wire["health"]["errors_recorded"] == 1
    assert wire["last_status"] == 503


def test_xss_inert_over_http(ro) -> None:
    _, client, _ = ro
    listing = client.get("/api/articles").json()
    assert "articles" in listing, listing
    xss_id = next(a["id"] for a in listing["articles"]
                  if "Kestrel K-9" in a["title"])
    r = client.get(f"/api/articles/{xss_id}")
    assert "<" not in r.text  # JSON text escapes markup characters
    assert_inert_html(r.json()["content_html"], "api content_html")
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    for path in ("/feeds/all.atom", "/feeds/all.rss"):
        root = etree.fromstring(client.get(path).content, STRICT)
        assert not root.xpath("//*[local-name()='script' or local-name()='svg']")
        for node in root.xpath("//*[local-name()='content' or local-name()='description']"):
            assert_inert_html(node.text or "", path)
    for item in client.get("/feeds/all.json").json()["items"]:
        assert_inert_html(item["content_html"], "json feed")


def test_pagination_never_skips_or_repeats_while_articles_arrive(served, tmp_path) -> None:
    _, client, store = served
    writer = Store.open(store.path)  # a second connection, like a crawl in another process
    writer2 = Store.open(store.path)
    stop = threading.Event()
    added: list[int] = []

    def crawl() -> None:
        n = 100
        while not stop.is_set() and n < 160:
            added.append(save(writer, article(n, source="wire"), "wire"))
            n += 1

    seen: list[int] = []
    cursor = 0
    thread = threading.Thread(target=crawl)
    thread.start()
    try:
        for _ in range(200):
            page = client.get("/api/articles", params={"since_id": cursor, "limit": 3}).json()
            ids = [a["id"] for a in page["articles"]]
            seen.extend(ids)
            assert page["next_since_id"] == (ids[-1] if ids else cursor)
            cursor = page["next_since_id"]
            # also insert between pages, from this thread
            if len(seen) % 9 == 0:  # its own connection: one connection is one thread's
                added.append(save(writer2, article(1000 + len(seen), source="magazine"),
                                  "magazine"))
            if not page["has_more"] and not thread.is_alive():
                break
    finally:
        stop.set()
        thread.join()
    # drain what is left after the writers stopped
    while True:
        page = client.get("/api/articles", params={"since_id": cursor, "limit": 50}).json()
        seen.extend(a["id"] for a in page["articles"])
        cursor = page["next_since_id"]
        if not page["has_more"]:
            break
    writer.close()
    all_ids = [r["id"] for r in store._all("SELECT id FROM articles ORDER BY id")]
    assert seen == all_ids  # every article exactly once, in order
    assert len(seen) == len(set(seen))
    assert set(added) <= set(seen)


def test_pagination_with_filters(ro) -> None:
    _, client, _ = ro
    page = client.get("/api/articles", params={"source": "magazine", "limit": 1}).json()
    assert page["has_more"] and page["articles"][0]["source"] == "magazine"
    nxt = httpx.get(page["next"], trust_env=False).json()
    assert [a["source"] for a in nxt["articles"]] == ["magazine"]
    assert nxt["articles"][0]["id"] > page["articles"][0]["id"]
    hits = client.get("/api/articles", params={"q": "interview"}).json()
    assert [a["title"] for a in hits["articles"]] == ["Interview: Ines Varga of Kestrel"]
    both = client.get("/api/articles?source=magazine&source=wire").json()
    assert {a["source"] for a in both["articles"]} == {"magazine", "wire"}


def test_missing_database_is_503(tmp_path: Path) -> None:
    with FeedServer(str(tmp_path / "none.db"), "127.0.0.1", 0) as server:
        r = httpx.get(server.base_url + "/api/articles", trust_env=False)
    assert r.status_code == 503 and r.json()["error"]["status"] == 503


def test_serve_command(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    store = make_store(tmp_path, xss=False)
    store.close()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--db", str(tmp_path / "out.db"), "serve",
         "--port", "0"], stderr=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        line = ""
        for _ in range(50):
            line = proc.stderr.readline()
            if line.startswith("Serving") or not line:
                break
        assert line.startswith("Serving"), line + (proc.stderr.read() if proc.poll() is not None
                                                   else "")
        url = line.split(" at ", 1)[1].split("/ ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        r = httpx.get(url + "/api/sources", trust_env=False, timeout=10)
        assert r.status_code == 200 and r.json()["count"] == 3
    finally:
        proc.terminate()
        proc.wait(10)
    from click.testing import CliRunner

    from aggregator.cli import cli

    missing = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "serve",
                                       "--port", "0"])
    assert missing.exit_code == 1 and "no such database" in missing.output


def test_no_parameter_gives_a_500(ro) -> None:
    import random

    _, client, _ = ro
    rng = random.Random(8)
    alphabet = ['"', "(", ")", "*", "-", ":", "^", "NEAR", "AND", "OR", "NOT", "title:",
                "%00", "%FF", "%C3%A9", "%22", "+", " ", "leica", "Z6-III", "{", "'", "\\"]
    paths = ["/api/articles?q=", "/feeds/search.atom?q=", "/feeds/all.json?limit=",
             "/api/articles?since_id=", "/api/stories?limit=", "/feeds/all.rss?since=",
             "/api/articles?source="]
    for _ in range(150):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        path = rng.choice(paths) + junk.replace(" ", "%20")
        r = client.get(path)
        assert r.status_code in (200, 400), (path, r.status_code, r.text)
        assert r.headers["content-type"].startswith(("application/", "text/"))


def test_unknown_parameters_and_sources_are_named(ro) -> None:
    _, client, _ = ro
    msg = client.get("/api/articles?since=bad").json()["error"]["message"]
    assert "unknown parameter 'since'" in msg and "since_id" in msg
    msg = client.get("/api/articles?source=nosuch").json()["error"]["message"]
    assert "no source named 'nosuch'" in msg
    assert client.get("/api/articles?source=magazine").status_code == 200


def test_client_reset_is_one_log_line_not_a_traceback(served, capsys) -> None:
    import logging
    import socket
    import struct

    server, client, _ = served
    records: list[logging.LogRecord] = []
    logged = threading.Event()

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            logged.set()

    logger = logging.getLogger("aggregator.serve")
    catch = Catch(logging.WARNING)
    logger.addHandler(catch)
    try:
        sock = socket.create_connection((server.host, server.port), timeout=10)
        sock.sendall(b"GET /feeds/all.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers unfinished
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # linger 0: the close sends a reset
        assert logged.wait(10), "nothing logged for the reset"
    finally:
        logger.removeHandler(catch)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err, err
    assert len(records) == 1 and records[0].exc_info is None
    message = records[0].getMessage()
    assert "\n" not in message and "connection lost (ConnectionResetError" in message, message
    assert client.get("/api/sources").status_code == 200  # the server goes on
