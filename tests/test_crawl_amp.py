"""A page's declared AMP form (<link rel="amphtml">) is stored as an alias of the article and
never fetched; `show URL` finds an article under any form of its URL. A small real HTTP
server on loopback, `aggregator crawl` through the CLI, a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import cli

ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Kestrel opens a repair centre in Porto</title>
<link rel="amphtml" href="/news/view/amp-kestrel-repair-porto">
</head><body><article><h1>Kestrel opens a repair centre in Porto</h1>
<p>Kestrel has opened a repair centre in Porto for its K9 bodies and KX lenses. Owners in
Portugal and Spain no longer need to send cameras to the Amsterdam workshop, which until now
handled every repair in the region, and turnaround should fall from three weeks to one.</p>
<p>The centre takes walk-in customers on weekdays and accepts parcels from dealers. It also
offers sensor cleaning while you wait, which the company says was the request it heard most
often at trade shows this year.</p>
</article></body></html>"""


def rss(*paths: str) -> str:
    items = "".join(f"<item><title>Kestrel Porto</title><link>{{base}}{p}</link>"
                    f"<guid>{p}</guid></item>" for p in paths)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Blog</title><link>{{base}}/</link>{items}</channel></rss>")


class Site:
    def __init__(self) -> None:
        self.feed = rss("/news/kestrel-repair-porto.html")
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.hits.append(self.path)
                if self.path == "/feed.xml":
                    body, kind = site.feed.replace("{base}", site.base), "application/rss+xml"
                elif self.path.startswith("/news/"):
                    body, kind = ARTICLE, "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture()
def site() -> Iterator[Site]:
    s = Site()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


def crawl(tmp_path: Path, site: Site) -> tuple[str, object]:
    config = tmp_path / "c.toml"
    config.write_text(f"""
[fetch]
allow_private = ["127.0.0.1"]
per_host_delay = 0.0

[[sources]]
name = "blog"
kind = "rss"
url = "{site.base}/feed.xml"
interval = "1h"
robots = false
""", encoding="utf-8")
    db = str(tmp_path / "news.db")
    return db, CliRunner().invoke(cli, ["--db", db, "--config", str(config), "crawl"])


def test_declared_amp_form_is_an_alias_and_not_fetched(tmp_path: Path, site: Site) -> None:
    db, first = crawl(tmp_path, site)
    assert first.exit_code == 0, first.output
    aliases = {u for (u,) in sqlite3.connect(db).execute("SELECT url FROM url_aliases")}
    assert f"{site.base}/news/view/amp-kestrel-repair-porto" in aliases
    # the feed now lists the AMP form: it is known, so it is not fetched
    site.feed = rss("/news/kestrel-repair-porto.html", "/news/view/amp-kestrel-repair-porto")
    site.hits.clear()
    db, again = crawl(tmp_path, site)
    assert again.exit_code == 0, again.output
    assert "/news/view/amp-kestrel-repair-porto" not in site.hits, site.hits
    assert sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_show_canonicalises_the_url(tmp_path: Path, site: Site) -> None:
    db, first = crawl(tmp_path, site)
    assert first.exit_code == 0, first.output
    url = f"{site.base}/news/kestrel-repair-porto.html"
    for typed in (url, f"{url}?utm_source=x&fbclid=1#comments", f" {url}#top ",
                  url.replace("http://", "HTTP://")):
        result = CliRunner().invoke(cli, ["--db", db, "show", typed, "--format", "json"])
        assert result.exit_code == 0, (typed, result.output)
        assert json.loads(result.output)["canonical_url"] == url
    missing = CliRunner().invoke(cli, ["--db", db, "show", f"{site.base}/news/other.html"])
    assert missing.exit_code == 1 and "no stored article" in missing.output


@pytest.mark.parametrize("page, declared, want", [
    ("https://ex.org/a/1.html", "/a/1/amp-view", ("https://ex.org/a/1/amp-view",)),
    ("https://www.ex.org/a/1.html", "https://amp.ex.org/a/1.html?utm_source=x",
     ("https://amp.ex.org/a/1.html?utm_source=x", "https://ex.org/a/1.html")),
    ("https://ex.org/a/1.html", "https://other.example/a/1.html", ()),
    ("https://ex.org/a/1.html", "javascript:alert(1)", ()),
    ("https://ex.org/a/1.html", "http://[::1", ()),
    ("https://ex.org/a/1.html", None, ()),
])
def test_declared_aliases(page: str, declared: str | None, want: tuple[str, ...]) -> None:
    from aggregator.dedup.urls import declared_aliases

    assert declared_aliases(page, declared) == want
