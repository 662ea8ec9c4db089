"""Feeds and data exports, parsed back by real readers: feedparser, a strict XML parser
(lxml without recover, and xml.dom.minidom), json, csv; the XSS fixture inert in each."""

from __future__ import annotations

import csv
import io
import json
import os
import xml.dom.minidom
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree
from outputs_data import assert_inert_html, make_store

from aggregator.cli import cli
from aggregator.export import (
    FeedInfo,
    article_json,
    build,
    group_stories,
    select_articles,
    story_members,
)

ATOM = "{http://www.w3.org/2005/Atom}"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


@pytest.fixture()
def store(tmp_path: Path):
    s = make_store(tmp_path)
    yield s
    s.close()


def _feed(store, fmt: str, *, per_story: bool = True, **filters) -> str:
    articles = select_articles(store, **filters)
    members = story_members(store, [a["story_id"] for a in articles if a.get("story_id")])
    info = FeedInfo(title="Test <feed> & co", self_url="http://127.0.0.1/feeds/all." + fmt,
                    home_url="http://127.0.0.1/")
    return build(fmt, info, articles, per_story=per_story, members=members)


def _strict(text: str) -> etree._Element:
    xml.dom.minidom.parseString(text.encode("utf-8"))  # well-formed for minidom too
    return etree.fromstring(text.encode("utf-8"), STRICT)


def test_atom_one_entry_per_story(store) -> None:
    text = _feed(store, "atom")
    root = _strict(text)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 4  # story (3 articles) + 2 singles + the XSS article
    story = [e for e in entries if e.findtext(f"{ATOM}id") == "urn:aggregator:story:1"]
    assert len(story) == 1
    # the earliest report leads; the other coverage is linked
    assert story[0].find(f"{ATOM}link[@rel='alternate']").get("href") \
        == "https://magazine.example/2026/04/story-1.html"
    related = [link.get("href") for link in story[0].findall(f"{ATOM}link[@rel='related']")]
    assert related == ["https://camerablog.example/2026/04/story-2.html",
                       "https://wire.example/2026/04/story-3.html"]
    parsed = feedparser.parse(text.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == 4
    assert parsed.feed.title == "Test <feed> & co"
    # every article with ?all
    every = _strict(_feed(store, "atom", per_story=False))
    assert len(every.findall(f"{ATOM}entry")) == 6


def test_rss_valid_and_parsed(store) -> None:
    text = _feed(store, "rss")
    root = _strict(text)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("channel/item")
    assert len(items) == 4
    for item in items:
        assert item.findtext("title") and item.findtext("guid") and item.findtext("pubDate")
    parsed = feedparser.parse(text.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    titles = [e.title for e in parsed.entries]
    assert "Interview: Ines Varga of Kestrel" in titles
    assert all(e.published_parsed for e in parsed.entries)


def test_jsonfeed_valid(store) -> None:
    text = _feed(store, "jsonfeed")
    feed = json.loads(text)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Test <feed> & co"
    assert len(feed["items"]) == 4
    ids = [i["id"] for i in feed["items"]]
    assert len(set(ids)) == len(ids)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["content_html"]
        assert item["date_published"].endswith("Z")
    story = next(i for i in feed["items"] if i["id"] == "urn:aggregator:story:1")
    assert [r["source"] for r in story["_aggregator"]["related"]] == ["camerablog", "wire"]
    # markup characters never appear raw in the JSON text (inert if pasted into HTML)
    assert "<" not in text and ">" not in text
    _check_jsonfeed(feed)


def _check_jsonfeed(feed: dict) -> None:
    """JSON Feed 1.1 structure (https://jsonfeed.org/version/1.1); feedparser 6.0 cannot
    read JSON Feed, so the spec's rules are checked here."""
    top = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
           "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items"}
    item_keys = {"id", "url", "external_url", "title", "content_html", "content_text",
                 "summary", "image", "banner_image", "date_published", "date_modified",
                 "authors", "tags", "language", "attachments"}
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and isinstance(feed["items"], list)
    assert all(k in top or k.startswith("_") for k in feed)
    from datetime import datetime

    for item in feed["items"]:
        assert all(k in item_keys or k.startswith("_") for k in item), item.keys()
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        for key in ("date_published", "date_modified"):
            if key in item:
                datetime.fromisoformat(item[key].replace("Z", "+00:00"))
        for a in item.get("authors", []):
            assert isinstance(a["name"], str)
        assert all(isinstance(t, str) for t in item.get("tags", []))


def test_xss_inert_in_every_feed(store) -> None:
    atom = _feed(store, "atom")
    root = _strict(atom)
    assert not root.xpath("//*[local-name()='script']")
    for entry in root.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}title").get("type") == "text"
        assert_inert_html(entry.findtext(f"{ATOM}content") or "", "atom content")
        for el in entry.iter():
            assert not any(k.lower().startswith("on") for k in el.attrib)
    rss = _strict(_feed(store, "rss"))
    for item in rss.findall("channel/item"):
        assert_inert_html(item.findtext("description") or "", "rss description")
    feed = json.loads(_feed(store, "jsonfeed"))
    for item in feed["items"]:
        assert_inert_html(item["content_html"], "jsonfeed content_html")
    # feed readers' view: feedparser output has no script in titles, authors or content
    for text in (atom, _feed(store, "rss")):
        parsed = feedparser.parse(text.encode("utf-8"))
        xss = [e for e in parsed.entries if "Kestrel K-9" in e.title]
        assert xss, [e.title for e in parsed.entries]
        for e in xss:
            details = [e.title_detail, *([e.summary_detail] if "summary_detail" in e else []),
                       *e.get("content", [])]
            for d in details:
                # text/plain values are text by the feed's own declaration; markup must be inert
                assert d.type in ("text/plain", "text/html"), d.type
                if d.type == "text/html":
                    assert "<script" not in d.value.lower()
                    assert_inert_html(d.value, "feedparser")


def test_jsonl_has_show_json_fields(store) -> None:
    articles = select_articles(store, limit=100)
    lines = build("jsonl", FeedInfo("x", "urn:x"), articles).splitlines()
    assert len(lines) == 6
    for line, art in zip(lines, articles, strict=True):
        row = json.loads(line)
        assert row == article_json(store.article(art["id"]))  # what show --format json prints
        assert row == article_json(art)
        assert "<" not in line


def test_csv_round_trip_and_formula_guard(store, tmp_path: Path) -> None:
    with store.transaction():
        store.conn.execute("UPDATE articles SET title = '=HYPERLINK(\"http://x\")' WHERE id = 4")
    text = build("csv", FeedInfo("x", "urn:x"), select_articles(store, limit=100))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    by_id = {r["id"]: r for r in rows}
    assert by_id["4"]["title"] == "'=HYPERLINK(\"http://x\")"
    assert by_id["1"]["story_id"] == "1"
    assert by_id["1"]["authors"] == "Author 1"


def test_group_stories_pure() -> None:
    arts = [
        {"id": 3, "story_id": 7, "published": "2026-04-03T00:00:00+00:00", "title": "c"},
        {"id": 1, "story_id": None, "published": "2026-04-02T00:00:00+00:00", "title": "a"},
        {"id": 2, "story_id": 7, "published": "2026-04-01T00:00:00+00:00", "title": "b"},
        {"id": 4, "story_id": None, "duplicate_of": 1, "published": None, "title": "dup"},
    ]
    items = group_stories(arts)
    assert [i.article["id"] for i in items] == [2, 1]
    assert [r["id"] for r in items[0].related] == [3]
    assert [r["id"] for r in items[1].related] == [4]
    assert [i.article["id"] for i in group_stories(arts, per_story=False)] == [3, 1, 2, 4]


def test_filters(store) -> None:
    assert {a["source"] for a in select_articles(store, source=["magazine"])} == {"magazine"}
    assert sorted(a["id"] for a in select_articles(store, story=1)) == [1, 2, 3]
    hits = select_articles(store, query="lens roundup")
    assert [a["title"] for a in hits] == ["Lens roundup for spring"]


def _run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "export", *args])


def test_export_command_writes_atomically(store, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "feed.atom"
    res = _run(Path(store.path), "--format", "atom", "-o", str(out))
    assert res.exit_code == 0, res.output
    first = out.read_text(encoding="utf-8")
    assert len(_strict(first).findall(f"{ATOM}entry")) == 4
    res = _run(Path(store.path), "--format", "rss", "--source", "magazine", "--limit", "1")
    assert res.exit_code == 0 and res.output.startswith("<?xml")
    res = _run(Path(store.path), "--format", "jsonl", "--story", "1")
    assert res.exit_code == 0 and len(res.output.splitlines()) == 3
    res = _run(Path(store.path), "--format", "jsonfeed", "--query", "ines varga")
    assert res.exit_code == 0 and json.loads(res.output)["items"]
    res = _run(Path(store.path), "--format", "csv", "--since", "2026-04-01")
    assert res.exit_code == 0 and res.output.startswith("id,url")

    # an export that dies before the rename leaves the old file and no temporary file
    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    res = _run(Path(store.path), "--format", "csv", "-o", str(out))
    assert res.exit_code != 0
    assert out.read_text(encoding="utf-8") == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".feed")) == []


def test_export_bad_input(store, tmp_path: Path) -> None:
    assert _run(Path(store.path), "--format", "yaml").exit_code == 2
    res = _run(Path(store.path), "--format", "atom", "--query", "-nothing")
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = _run(Path(store.path), "--format", "atom", "--since", "someday")
    assert res.exit_code == 1 and "Traceback" not in res.output
    res = _run(tmp_path / "missing.db", "--format", "atom")
    assert res.exit_code == 1 and "no such database" in res.output


def test_control_characters_never_break_the_xml() -> None:
    art = {"id": 1, "url": "https://x.example/a\x00b", "canonical_url": "https://x.example/a",
           "source": "s\x1b", "title": "Bad\x00\x1b\ud800 title\x0c", "authors": ["A\x07"],
           "published": "2026-04-01T00:00:00+00:00", "fetched": "2026-04-01T00:00:00+00:00",
           "summary": "s\x0bs", "html": "<p>x\x01y</p>", "text": "x", "attributions": []}
    info = FeedInfo("T\x00", "http://127.0.0.1/f")
    for fmt in ("atom", "rss"):
        root = _strict(build(fmt, info, [art]))
        assert "Bad title" in etree.tostring(root, encoding="unicode")
    feed = json.loads(build("jsonfeed", info, [art]))
    assert feed["items"][0]["title"] == "Bad title"
    assert build("csv", info, [art]).count("\n") == 2


def test_story_entry_updated_when_coverage_arrives() -> None:
    lead = {"id": 1, "story_id": 9, "title": "a", "published": "2026-04-01T09:00:00+00:00",
            "fetched": "2026-04-01T10:00:00+00:00", "canonical_url": "https://a.example/1"}
    later = {"id": 2, "story_id": 9, "title": "b", "published": "2026-04-02T09:00:00+00:00",
             "fetched": "2026-04-03T07:00:00+00:00", "canonical_url": "https://b.example/2"}
    info = FeedInfo("t", "http://127.0.0.1/f")
    alone = _strict(build("atom", info, [lead]))
    both = _strict(build("atom", info, [later, lead]))
    assert alone.findtext(f"{ATOM}entry/{ATOM}updated") == "2026-04-01T09:00:00Z"
    assert both.findtext(f"{ATOM}entry/{ATOM}updated") == "2026-04-03T07:00:00Z"
    assert alone.findtext(f"{ATOM}entry/{ATOM}id") == both.findtext(f"{ATOM}entry/{ATOM}id") \
        == "urn:aggregator:story:9"


def test_export_to_a_path_that_cannot_be_written(store, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    existing = tmp_path / "keep.csv"
    existing.write_text("old\n", encoding="utf-8")
    cases = [
        (tmp_path / "nodir" / "x.atom", "atom", "folder", "does not exist"),
        (folder, "csv", "a-folder", "is a folder"),
        (existing / "x.csv", "csv", "keep.csv", "is not a folder"),
    ]
    for target, fmt, named, why in cases:
        res = CliRunner().invoke(cli, ["--db", store.path, "export", "--format", fmt,
                                       "-o", str(target)])
        assert res.exit_code == 1, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {target}: "), res.output
        assert named in lines[0] and why in lines[0]
    assert existing.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in folder.iterdir()) == []


def test_unknown_source_or_story_is_an_error(store) -> None:
    for args, named in ((["--source", "nosuch"], "'nosuch'"),
                        (["--source", "magazine", "--source", "nosuch"], "'nosuch'"),
                        (["--story", "9999"], "story 9999")):
        res = _run(Path(store.path), "--format", "jsonl", *args)
        assert res.exit_code == 1, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: unknown ") and named in lines[0]
    assert _run(Path(store.path), "--format", "jsonl", "--source", "magazine").exit_code == 0
    assert _run(Path(store.path), "--format", "jsonl", "--story", "1").exit_code == 0


def test_search_unknown_source_or_story_is_an_error(store) -> None:
    def search(*args: str):
        return CliRunner().invoke(cli, ["--db", store.path, "search", "kestrel", *args])

    res = search("--source", "nosuch")
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        "Error: unknown source 'nosuch' in --source (known: camerablog, magazine, wire)"]
    res = search("--story", "9999")
    assert res.exit_code == 1 and "unknown story 9999" in res.output
    ok = search("--source", "magazine")
    assert ok.exit_code == 0 and "Kestrel" in ok.output


def test_export_says_when_the_limit_cut_it(store) -> None:
    from click.testing import CliRunner

    from aggregator.cli import cli

    base = ["--db", store.path, "export", "--format", "jsonl"]
    cut = CliRunner().invoke(cli, [*base, "--limit", "1"])
    assert cut.exit_code == 0
    assert len(cut.stdout.splitlines()) == 1
    assert "Note: the 1 newest matching articles; --limit N for more." in cut.stderr
    whole = CliRunner().invoke(cli, [*base, "--limit", "1000"])
    assert whole.exit_code == 0 and "Note:" not in whole.stderr


def test_jsonl_and_csv_are_written_article_by_article(store) -> None:
    """The data formats come in pieces, one per article (so an export of any size is never
    held whole in memory), and the pieces join to exactly what build() gives."""
    from aggregator.export import iter_articles, select_article_ids, stream

    ids = select_article_ids(store, limit=100)
    info = FeedInfo("x", "urn:x")
    for fmt in ("jsonl", "csv"):
        pieces = list(stream(fmt, iter_articles(store, ids)))
        assert len(pieces) == len(ids)
        assert "".join(pieces) == build(fmt, info, select_articles(store, limit=100))
    assert list(stream("csv", [])) == ["id,url,canonical_url,source,title,authors,published,"
                                       "modified,fetched,language,summary,story_id,"
                                       "duplicate_of,text\r\n"]
    with pytest.raises(ValueError, match="record by record"):
        stream("atom", [])


def test_export_into_a_pipe_closed_early_exits_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    from aggregator.models import Article
    from aggregator.store import Store

    path = tmp_path / "many.db"
    with Store.open(path) as s:
        for n in range(300):
            url = f"http://127.0.0.1:9/p/{n}.html"
            s.save_article(Article(url=url, title=f"Story {n}", text=f"Story {n}. " * 150),
                           source="blog", canonical_url=url, aliases=[],
                           fetched=datetime(2026, 11, 1, tzinfo=UTC))
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--db", str(path), "export",
                             "--format", "jsonl", "--limit", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["title"].startswith("Story")
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err
