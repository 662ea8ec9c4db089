"""End to end with the real crawl: the API paged while a crawl of the fixture site adds
articles (nothing skipped, nothing repeated), and the XSS fixture crawled from a loopback
server, with a watch wired as a crawl listener, then checked inert in every output."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import feedparser
import httpx
from click.testing import CliRunner
from lxml import etree
from outputs_data import assert_inert_html

from aggregator.cli import cli
from aggregator.config import load_config
from aggregator.crawl import run_crawl
from aggregator.fixture_server import FixtureServer
from aggregator.serve import FeedServer
from aggregator.store import Store
from aggregator.watches import close_listeners, make_listeners, parse_watches

ROOT = Path(__file__).resolve().parent.parent
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def _crawl(db: str, settings, listeners_for=None) -> None:
    store = Store.open(db)
    try:
        listeners = listeners_for(store) if listeners_for else []
        asyncio.run(run_crawl(settings, store, list(settings.sources), listeners=listeners))
        close_listeners(listeners, timeout=10)
    finally:
        store.close()


def test_pagination_during_a_real_crawl(fixture_site, tmp_path: Path) -> None:
    settings = load_config(ROOT / "config" / "demo.toml",
                           variables={"base": fixture_site.base_url})
    db = str(tmp_path / "crawl.db")
    Store.open(db).close()
    seen: list[int] = []
    with FeedServer(db, "127.0.0.1", 0) as server, \
            httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        crawl = threading.Thread(target=_crawl, args=(db, settings))
        crawl.start()
        cursor, pages = 0, 0
        while True:
            alive = crawl.is_alive()  # read before the page: a commit may land meanwhile
            page = client.get("/api/articles", params={"since_id": cursor, "limit": 2}).json()
            seen.extend(a["id"] for a in page["articles"])
            cursor = page["next_since_id"]
            pages += 1
            if not page["has_more"] and not alive:
                break
        crawl.join()
        # one more page after the crawl: nothing new
        last = client.get("/api/articles", params={"since_id": cursor}).json()
        assert last["articles"] == [] and last["next_since_id"] == cursor
    with Store.open(db) as store:
        ids = [r["id"] for r in store._all("SELECT id FROM articles ORDER BY id")]
    assert len(ids) >= 20
    assert seen == ids
    assert pages > 1


def test_xss_fixture_crawled_is_inert_everywhere(tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.jsonl"
    config = tmp_path / "xss.toml"
    config.write_text(
        '[fetch]\nallow_private = ["127.0.0.1"]\nper_host_delay = 0.0\nretries = 0\n\n'
        '[[sources]]\nname = "xss"\ntitle = "XSS <b>fixture</b>"\nkind = "rss"\n'
        'url = "{base}/xss/feed.xml"\ninterval = "1h"\n', encoding="utf-8")
    db = str(tmp_path / "xss.db")
    with FixtureServer(ROOT / "fixtures") as site:
        settings = load_config(config, variables={"base": site.base_url})
        watches = parse_watches([{"name": "k9", "query": "kestrel", "jsonl": str(alerts)}],
                                str(config))
        wired = SimpleNamespace(watches=watches, fetch=settings.fetch)
        _crawl(db, settings, lambda store: make_listeners(wired, store))
    with Store.open(db) as store:
        assert store.count_articles() == 1
        stored = store._all("SELECT id, title FROM articles")[0]
    # the watch fired through the crawl's listener hook
    line = json.loads(alerts.read_text(encoding="utf-8").splitlines()[0])
    assert line["watch"] == "k9" and line["article"]["id"] == stored["id"]

    runner = CliRunner()
    for fmt in ("atom", "rss", "jsonfeed", "jsonl", "csv"):
        res = runner.invoke(cli, ["--db", db, "export", "--format", fmt])
        assert res.exit_code == 0, res.output
        out = res.output
        if fmt in ("atom", "rss"):
            root = etree.fromstring(out.encode("utf-8"), STRICT)
            assert not root.xpath("//*[local-name()='script' or local-name()='svg' or "
                                  "local-name()='img' or local-name()='iframe']")
            for node in root.xpath("//*[local-name()='content' or local-name()='description']"):
                assert_inert_html(node.text or "", f"{fmt} content")
            parsed = feedparser.parse(out.encode("utf-8"))
            assert not parsed.bozo
            for e in parsed.entries:
                for d in (e.title_detail, *e.get("content", [])):
                    if d.type == "text/html":
                        assert_inert_html(d.value, f"{fmt} via feedparser")
        elif fmt == "jsonfeed":
            for item in json.loads(out)["items"]:
                assert_inert_html(item["content_html"], "jsonfeed")
            assert "<" not in out
        elif fmt == "jsonl":
            assert "<" not in out and json.loads(out.splitlines()[0])["id"] == stored["id"]
        else:
            assert out.startswith("id,")

    with FeedServer(db, "127.0.0.1", 0) as server, \
            httpx.Client(base_url=server.base_url, trust_env=False) as client:
        art = client.get(f"/api/articles/{stored['id']}")
        assert art.status_code == 200 and "<" not in art.text
        assert_inert_html(art.json()["content_html"], "api")
        for path in ("/feeds/xss.atom", "/feeds/all.rss", "/feeds/search.json?q=kestrel"):
            r = client.get(path)
            assert r.status_code == 200, r.text
            if path.endswith("json?q=kestrel"):
                items = r.json()["items"]
                assert items
                for item in items:
                    assert_inert_html(item["content_html"], path)
            else:
                root = etree.fromstring(r.content, STRICT)
                for node in root.xpath("//*[local-name()='content' or "
                                       "local-name()='description']"):
                    assert_inert_html(node.text or "", path)
