"""End to end: the real fixture server, `aggregator crawl` through the CLI, a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.fixture_server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config" / "demo.toml"


def demo_config(tmp_path: Path, base: str, extra: str = "") -> Path:
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace("{base}", base) + extra
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def article_pages(expected: dict[str, dict]) -> dict[str, dict]:
    """Expected pages that the demo sources lead to: every article page of the site that is
    its own canonical page (an AMP copy is stored as an alias of its canonical page)."""
    return {p: e for p, e in expected.items() if not p.startswith("/special/")
            and (e.get("canonical_url") or p).endswith(p)}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, fixture_site: FixtureServer) -> dict:
    tmp = tmp_path_factory.mktemp("e2e")
    config = demo_config(tmp, fixture_site.base_url)
    db = tmp / "news.db"
    first = run("--db", str(db), "--config", str(config), "crawl")
    return {"db": db, "config": config, "first": first}


def test_first_crawl_stores_every_article(crawled: dict, expected_pages: dict) -> None:
    result = crawled["first"]
    assert result.exit_code == 0, result.output
    pages = article_pages(expected_pages)
    conn = sqlite3.connect(crawled["db"])
    stored = {row[0] for row in conn.execute("SELECT url FROM url_aliases")}
    missing = [p for p, e in pages.items() if not any(u.split("?")[0].endswith(p) for u in stored)]
    assert not missing, f"not stored: {missing}"
    assert "Crawled 5 sources" in result.output
    # The store's invariants: one row per canonical URL, an index row per article.
    n = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert n == conn.execute("SELECT count(DISTINCT canonical_url) FROM articles").fetchone()[0]
    assert n == conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_crawl_stores_nothing_new(crawled: dict, fixture_site: FixtureServer) -> None:
    db, config = str(crawled["db"]), str(crawled["config"])
    before = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    fixture_site.reset_hits()
    again = run("--db", db, "--config", config, "crawl")
    assert again.exit_code == 0, again.output
    assert "0 new articles" in again.output
    after = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    assert after == before
    # Nothing stored is fetched again: only feeds and listing pages are requested.
    fetched_pages = [p for p in fixture_site.hits if p.endswith(".html")
                     and "/press/index" not in p and "/press/page-" not in p]
    assert fetched_pages == []


def test_search_and_show(crawled: dict, expected_pages: dict) -> None:
    db = str(crawled["db"])
    pages = article_pages(expected_pages)
    path, page = next(iter(sorted(pages.items())))
    result = run("--db", db, "search", page["title"], "--format", "json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits, f"no hit for {page['title']!r}"
    top = hits[0]
    assert top["url"].split("?")[0].endswith(path)
    assert {"id", "url", "canonical_url", "source", "title", "authors", "published", "fetched",
            "language", "summary", "attributions", "snippet", "score"} <= set(top)
    shown = run("--db", db, "show", str(top["id"]), "--format", "json")
    assert shown.exit_code == 0, shown.output
    article = json.loads(shown.output)
    assert article["title"] == page["title"]
    assert article["authors"] == page["authors"]
    assert article["text"]
    # jsonl gives the same rows as json
    lines = run("--db", db, "search", page["title"], "--format", "jsonl").output.splitlines()
    assert [json.loads(x)["id"] for x in lines] == [h["id"] for h in hits]
    # the table format prints the title and URL
    table = run("--db", db, "search", page["title"]).output
    assert page["title"] in table and top["canonical_url"] in table


def test_show_by_url_and_unknown(crawled: dict) -> None:
    db = str(crawled["db"])
    url = sqlite3.connect(db).execute("SELECT url FROM articles LIMIT 1").fetchone()[0]
    shown = run("--db", db, "show", url)
    assert shown.exit_code == 0 and shown.output.strip()
    unknown = run("--db", db, "show", "999999")
    assert unknown.exit_code != 0 and "no stored article" in unknown.output


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "-", "*", ":", "title:"])
def test_bad_query_gives_one_line(crawled: dict, query: str) -> None:
    result = run("--db", str(crawled["db"]), "search", query)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert len(result.output.strip().splitlines()) == 1


def test_search_filters(crawled: dict) -> None:
    db = str(crawled["db"])
    hits = json.loads(run("--db", db, "search", "camera", "--source", "lens-and-light",
                          "--format", "json", "--limit", "50").output)
    assert hits and all(h["source"] == "lens-and-light" for h in hits)
    future = json.loads(run("--db", db, "search", "camera", "--since", "2099-01-01",
                            "--format", "json").output)
    assert future == []
    bad = run("--db", db, "search", "camera", "--since", "someday")
    assert bad.exit_code != 0 and "Traceback" not in bad.output


FAULT_SITE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Faults</title><link>{base}/</link>
<item><title>A PDF</title><link>{main}/special/brochure.pdf</link></item>
<item><title>Gone</title><link>{main}/camerablog/2026/no-such-post.html</link></item>
<item><title>Refused</title><link>http://127.0.0.1:1/post.html</link></item>
</channel></rss>
"""


def test_faults_are_recorded_and_the_rest_goes_on(
    tmp_path: Path, fixture_site: FixtureServer
) -> None:
    site = tmp_path / "faults"
    site.mkdir()
    with FixtureServer(site) as faults:
        (site / "feed.xml").write_text(
            FAULT_SITE_FEED.format(base=faults.base_url, main=fixture_site.base_url))
        extra = f"""
[[sources]]
name = "unreachable"
kind = "rss"
url = "http://127.0.0.1:1/feed.xml"
interval = "1h"

[[sources]]
name = "malformed"
kind = "rss"
url = "{fixture_site.base_url}/special/not-a-feed.xml"
interval = "1h"

[[sources]]
name = "bad-links"
kind = "rss"
url = "{faults.base_url}/feed.xml"
interval = "1h"
"""
        config = demo_config(tmp_path, fixture_site.base_url, extra)
        db = tmp_path / "faults.db"
        result = run("--db", str(db), "--config", str(config), "crawl")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    conn = sqlite3.connect(db)
    errors = conn.execute("SELECT source, url, kind, message FROM fetch_errors").fetchall()
    by_source = {}
    for source, url, kind, message in errors:
        by_source.setdefault(source, []).append((url, kind, message))
    assert "unreachable" in by_source and "malformed" in by_source
    bad = {url: kind for url, kind, _ in by_source["bad-links"]}
    assert any(u.endswith("brochure.pdf") for u in bad)
    assert any(u.endswith("no-such-post.html") for u in bad)
    assert any(u.startswith("http://127.0.0.1:1/") for u in bad)
    state = dict(conn.execute("SELECT name, error_streak FROM sources").fetchall())
    assert state["unreachable"] == 1 and state["malformed"] == 1 and state["shutter-notes"] == 0
    # every other source was crawled in full
    assert conn.execute("SELECT count(*) FROM articles WHERE source = 'shutter-notes'"
                        ).fetchone()[0] >= 5
    assert "3 sources failed" not in result.output and "FAILED" in result.output


def test_nothing_crawled_exits_non_zero(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("""
[fetch]
allow_private = ["127.0.0.1"]
retries = 0

[[sources]]
name = "down"
kind = "rss"
url = "http://127.0.0.1:1/feed.xml"
interval = "1h"
""")
    result = run("--db", str(tmp_path / "x.db"), "--config", str(config), "crawl")
    assert result.exit_code == 1
    assert "1 source failed" in result.output


def test_config_error_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[sources]]\nname = "x"\nkind = "rss"\nurl = "nope"\ninterval = "1h"\n')
    result = run("--db", str(tmp_path / "x.db"), "--config", str(config), "crawl")
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"Error: {config}: source 'x': field 'url': 'nope' is not an http(s) URL"]


def test_demo_command(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run("demo", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "Serving the fixture site" in result.output and "new articles" in result.output
    assert sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0] >= 20


def test_watch_in_config_alerts_on_new_articles(tmp_path: Path,
                                                fixture_site: FixtureServer) -> None:
    alerts = tmp_path / "alerts.jsonl"
    extra = f"""
[[watches]]
name = "k9"
query = "K9"
jsonl = "{alerts}"
"""
    config = demo_config(tmp_path, fixture_site.base_url, extra)
    db = tmp_path / "w.db"
    assert run("--db", str(db), "--config", str(config), "crawl").exit_code == 0
    lines = [json.loads(x) for x in alerts.read_text(encoding="utf-8").splitlines()]
    assert lines and all("K9" in json.dumps(x) for x in lines)
    # a second crawl stores nothing new, so it alerts nothing new
    assert run("--db", str(db), "--config", str(config), "crawl").exit_code == 0
    assert len(alerts.read_text(encoding="utf-8").splitlines()) == len(lines)


def expected_with(expected: dict, kind: str, name: str) -> set[str]:
    """Paths of the crawled pages whose expected attributions have (kind, name)."""
    kinds = ("source", "press_release") if kind == "source" else (kind,)
    return {p for p, e in article_pages(expected).items()
            if any(a["kind"] in kinds and a["name"] == name for a in e["attributions"])}


def paths_of(hits: list[dict]) -> set[str]:
    return {"/" + h["canonical_url"].split("/", 3)[3] for h in hits}


@pytest.mark.parametrize("option, kind, name", [
    ("--quoted", "quote", "Mariko Ishida"),
    ("--cites", "source", "Tokai Shimbun"),
    ("--author", "author", "Marcus Hale"),
])
def test_search_by_attribution(crawled: dict, expected_pages: dict, option: str, kind: str,
                               name: str) -> None:
    want = expected_with(expected_pages, kind, name)
    assert want
    result = run("--db", str(crawled["db"]), "search", "*", option, name, "--all",
                 "--format", "json", "--limit", "100")
    if result.exit_code != 0:  # "*" alone may be refused: search a word every page has
        result = run("--db", str(crawled["db"]), "search", "the", option, name, "--all",
                     "--format", "json", "--limit", "100")
    got = paths_of(json.loads(result.output))
    assert got, result.output
    precision = len(got & want) / len(got)
    recall = len(got & want) / len(want)
    assert precision >= 0.9 and recall >= 0.75, (sorted(got), sorted(want))


def search_ids(db: str, *args: str) -> list[int]:
    # a word (nearly) every page has, in the fixture site's languages
    result = run("--db", db, "search", "the OR der OR die OR le OR la", *args, "--all",
                 "--format", "json",
                 "--limit", "100")
    assert result.exit_code == 0, result.output
    return sorted(h["id"] for h in json.loads(result.output))


@pytest.mark.parametrize("option, typed, stored", [
    ("--quoted", "Celine Marchetti", "Céline Marchetti"),
    ("--quoted", "CÉLINE  marchetti", "Céline Marchetti"),
    ("--author", "JÜRGEN MÜLLER", "Jürgen Müller"),
    ("--author", "jurgen muller", "Jürgen Müller"),
])
def test_name_filters_fold_case_and_accents(crawled: dict, option: str, typed: str,
                                            stored: str) -> None:
    db = str(crawled["db"])
    want = search_ids(db, option, stored)
    assert want
    assert search_ids(db, option, typed) == want


@pytest.mark.parametrize("option", ["--author", "--quoted", "--cites"])
@pytest.mark.parametrize("pattern", ["%", "_", "J%", "% %"])
def test_name_filters_take_wildcards_literally(crawled: dict, option: str,
                                               pattern: str) -> None:
    assert search_ids(str(crawled["db"]), option, pattern) == []


@pytest.mark.parametrize("args", [
    ["-NX-70 K9"],
    ["--format", "urls", "-NX-70 K9"],
    ["-NX-70 K9", "--format", "urls"],
    ["--", "-NX-70 K9", "--format", "urls"],
    ["--limit", "5", "--", "-NX-70 K9"],
])
def test_query_may_start_with_a_dash(crawled: dict, args: list[str]) -> None:
    db = str(crawled["db"])
    want = run("--db", db, "search", "K9 NOT NX-70", "--format", "urls").output.split()
    assert want
    result = run("--db", db, "search", *args, *(["--format", "urls"]
                                                  if "--format" not in args else []))
    assert result.exit_code == 0, result.output
    assert result.output.split() == want[:5 if "5" in args else None]


def test_unknown_option_says_how_to_search_for_dash_text(crawled: dict) -> None:
    result = run("--db", str(crawled["db"]), "search", "sensor", "--bogus")
    assert result.exit_code == 2
    assert "no such option: --bogus" in result.output and "after --" in result.output
    assert "Traceback" not in result.output


def test_citation_chain_reaches_the_press_release(crawled: dict) -> None:
    db = str(crawled["db"])
    conn = sqlite3.connect(db)
    blog = conn.execute("SELECT id FROM articles WHERE canonical_url LIKE"
                        " '%/camerablog/%kestrel-k9-first-look%'").fetchone()[0]
    out = json.loads(run("--db", db, "sources-of", str(blog), "--format", "json").output)
    origins = out["origins"]
    urls = dict(conn.execute("SELECT id, canonical_url FROM articles").fetchall())
    assert any("/pressroom/press/kestrel-k9-launch" in urls[o] for o in origins), out
    text = run("--db", db, "sources-of", str(blog)).output
    assert "Earliest stored origin" in text


def test_chain_prints_one_earliest_origin(crawled: dict) -> None:
    db = str(crawled["db"])
    conn = sqlite3.connect(db)
    post = conn.execute("SELECT id FROM articles WHERE canonical_url LIKE"
                        " '%/camerablog/%kestrel-confirms-k9-price-rise%'").fetchone()[0]
    text = run("--db", db, "sources-of", str(post)).output
    assert text.count("Earliest stored origin") == 1, text
    out = json.loads(run("--db", db, "sources-of", str(post), "--format", "json").output)
    assert len(out["origins"]) >= 2 and out["earliest_origin"] in out["origins"]
    dates = dict(conn.execute("SELECT id, published FROM articles").fetchall())
    assert dates[out["earliest_origin"]] == min(dates[o] for o in out["origins"])


def test_chain_of_a_near_copy_leads_to_the_original(crawled: dict) -> None:
    db = str(crawled["db"])
    pairs = sqlite3.connect(db).execute(
        "SELECT id, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL").fetchall()
    assert pairs
    for copy, original in pairs:
        out = json.loads(run("--db", db, "sources-of", str(copy), "--format", "json").output)
        assert out["cites"][0]["id"] == original
        assert out["cites"][0]["via"]["kind"] == "duplicate_of"
        text = run("--db", db, "sources-of", str(copy)).output
        assert f"copy of {out['cites'][0]['via']['name']} -> [{original}]" in text, text
        assert text.count("Earliest stored origin") == 1, text


def test_search_formats_agree(crawled: dict) -> None:
    db = str(crawled["db"])
    for query in ("sensor", "kestrel OR aurel OR norikawa"):
        base = ["--db", db, "search", query, "--limit", "10"]
        as_json = json.loads(run(*base, "--format", "json").output)
        ids = [h["id"] for h in as_json]
        assert ids and len(set(ids)) == len(ids)
        as_jsonl = [json.loads(x)["id"] for x in
                    run(*base, "--format", "jsonl").output.splitlines()]
        rows = list(csv.DictReader(io.StringIO(run(*base, "--format", "csv").output)))
        as_csv = [int(r["id"]) for r in rows]
        as_urls = run(*base, "--format", "urls").output.split()
        table = run(*base, "--format", "table").output
        heads = [x for x in table.splitlines() if x.startswith("[")]
        assert as_jsonl == ids
        assert as_csv == ids
        assert [r["title"] for r in rows] == [h["title"] for h in as_json]
        assert as_urls == [h["canonical_url"] or h["url"] for h in as_json]
        assert heads == [f"[{h['id']}] {h['title']}" for h in as_json]


#: The events of fixtures/README.md ("Stories"), each with its pages.
EVENTS = [
    ("/pressroom/press/kestrel-k9-launch.", "/magazine/2026/03/kestrel-k9-announced.",
     "kestrel-k9-announced-61mp-stacked-sensor", "/kestrel-k9-first-look"),
    ("/kestrel-k9-shortage-sensor-yields", "/kestrel-k9-shortage-dealers"),
    ("/norikawa-to-exit-compact-cameras", "/report-norikawa-to-quit-compact-cameras"),
    ("/aurel-lumen-35mm-f12-announced", "/aurel-unveils-lumen-35mm-f12"),
    ("/aurel-lumen-35mm-f12-hands-on",),
    ("/kestrel-k9-reviews-roundup",),
    ("/press/k9-firmware-2-0", "/kestrel-k9-firmware-2-0"),
    ("/norikawa-kumamoto-sensor-plant", "/norikawa-kumamoto-output-report"),
    ("/ines-carvalho-lisbon-nights",),
    ("/european-service-centre-amsterdam", "/kestrel-servicezentrum-amsterdam",
     "/kestrel-amsterdam-repair-hub"),
    ("/kestrel-k9-price-increase-europe-uk", "/price-revision-europe-uk",
     "/kestrel-confirms-k9-price-rise-europe"),
    ("/aurel-lumen-85mm-f14-fotomesse", "/fotomesse-aurel-lumen-85",
     "/aurel-lumen-85-erster-eindruck"),
    ("/norikawa-nx-70-leaks",),
    ("/norikawa-nx-70-announced", "/norikawa-nx-70-launch"),
    ("/norikawa-nx-70-test",),
    ("/press/kx-50mm-f1-4", "/kestrel-kx-50mm-f14-announced"),
    ("/mariko-ishida-interview-kestrel",),
    ("/kestrel-norikawa-sensor-deal", "/kestrel-norikawa-sensor-alliance"),
]


def test_duplicates_and_stories(crawled: dict, fixture_site: FixtureServer) -> None:
    db = str(crawled["db"])
    conn = sqlite3.connect(db)

    def article_for(path: str) -> tuple:
        row = conn.execute(
            "SELECT a.id, a.duplicate_of, a.story_id FROM url_aliases u JOIN articles a"
            " ON a.id = u.article_id WHERE u.url LIKE ?", (f"%{path}%",)).fetchone()
        assert row, path
        return row

    # The republication (same text, plus a "republished with permission" line) is stored once
    # as an alias of the magazine article, or as a row marked a copy of it.
    magazine = article_for("/magazine/2026/03/kestrel-k9-announced.html")
    wire = article_for("/wire/2026/03/kestrel-k9-announced-61mp-stacked-sensor.html")
    assert wire[0] == magazine[0] or wire[1] == magazine[0]
    assert conn.execute("SELECT count(*) FROM url_aliases WHERE url LIKE '%utm_source=rss%'"
                        ).fetchone()[0] >= 1
    # The lightly rewritten copy keeps its row, marked as a copy of the blog post.
    blog = article_for("/camerablog/2026/05/aurel-lumen-35mm-f12-announced.html")
    rewrite = article_for("/wire/2026/05/aurel-unveils-lumen-35mm-f12.html")
    assert rewrite[0] != blog[0] and rewrite[1] == blog[0] and rewrite[2] == blog[2]
    # One event covered by the press room, the magazine and the blog is one story; the
    # NX-70 leak and its announcement months later are different stories.
    launch = article_for("/pressroom/press/kestrel-k9-launch.html")
    assert launch[2] == magazine[2]
    leak = article_for("/camerablog/2026/")  # any blog post, for the query below
    assert leak
    stories = dict(conn.execute("SELECT id, first_source FROM stories").fetchall())
    assert stories[magazine[2]] == "kestrel-press"  # who reported first
    # every event of the fixture README's story table is one story, and no two events share
    # one (same companies, different events; the English, French and German Fotomesse pieces)
    story_of = {page: article_for(page)[2] for event in EVENTS for page in event}
    for event in EVENTS:
        assert len({story_of[page] for page in event}) == 1, event
    assert len({story_of[event[0]] for event in EVENTS}) == len(EVENTS)
    # search shows one row per story, `story` lists its articles in time order
    hits = json.loads(run("--db", db, "search", "K9 61MP", "--format", "json").output)
    assert len({h["story_id"] for h in hits}) == len(hits)
    shown = run("--db", db, "story", str(magazine[2]))
    assert shown.exit_code == 0 and "kestrel-press" in shown.output
    # re-crawling changes no story assignment
    before = conn.execute("SELECT id, story_id, duplicate_of FROM articles ORDER BY id").fetchall()
    assert run("--db", db, "--config", str(crawled["config"]), "crawl").exit_code == 0
    after = conn.execute("SELECT id, story_id, duplicate_of FROM articles ORDER BY id").fetchall()
    assert after == before


@pytest.mark.parametrize("query, needle", [
    ("dusseldorf", "Düsseldorf"),         # accents folded
    ("DÜSSELDORF", "Düsseldorf"),         # case folded
    ("celine marchetti", "Céline"),
    ("NX70", "NX-70"),                    # model names with and without hyphen or space
    ("NX 70", "NX-70"),
    ("nx-70", "NX-70"),
    ("K7II", "K7 II"),
    ("K7-II", "K7 II"),
    ("L2", "L² Engine"),                  # superscripts and similar forms
    ('"L² Engine"', "L² Engine"),
    ("l² engine", "L² Engine"),
    ("85mm", "85 mm"),                    # numbers with units, spaced or not
    ("35 mm", "35mm"),
    ("Kestrel's", "Kestrel’s"),           # typographic apostrophes
    ('"stacked sensor"', "stacked sensor"),  # phrase
    ("kestr*", "Kestrel"),                # prefix
])
def test_text_forms_find_their_match(crawled: dict, query: str, needle: str) -> None:
    result = run("--db", str(crawled["db"]), "search", query, "--all", "--format", "json",
                 "--limit", "50")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits, f"{query!r} found nothing"
    conn = sqlite3.connect(crawled["db"])
    texts = [conn.execute("SELECT title || ' ' || text FROM articles WHERE id = ?",
                          (h["id"],)).fetchone()[0] for h in hits]
    assert any(needle in t for t in texts), f"{query!r}: no hit contains {needle!r}"


def test_boolean_queries(crawled: dict) -> None:
    db = str(crawled["db"])

    def ids(q: str) -> set[int]:
        out = run("--db", db, "search", q, "--all", "--format", "json", "--limit", "100")
        assert out.exit_code == 0, out.output
        return {h["id"] for h in json.loads(out.output)}

    k9, nx = ids("K9"), ids("NX-70")
    assert ids("K9 OR NX-70") == k9 | nx
    assert ids("K9 NOT NX-70") == k9 - nx
    assert ids("K9 -NX-70") == k9 - nx
    assert ids("K9 AND NX-70") == k9 & nx


def test_webhook_down_during_crawl_loses_no_alert(tmp_path: Path, fixture_site: FixtureServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from test_watches_delivery import Hook

    import aggregator.watches

    sleeps: list[float] = []
    monkeypatch.setattr(aggregator.watches, "SLEEP", sleeps.append)
    hook = Hook(statuses=[500] * 1000)
    alerts = tmp_path / "alerts.jsonl"
    extra = f"""
[[watches]]
name = "all"
query = "the"
jsonl = "{alerts}"
webhook = "{hook.url}"
"""
    config = demo_config(tmp_path, fixture_site.base_url, extra)
    db = tmp_path / "w.db"
    try:
        first = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "crawl"])
        assert first.exit_code == 0, first.output
        lines = alerts.read_text(encoding="utf-8").splitlines()
        assert len(lines) >= 10
        pending = sqlite3.connect(db).execute(
            "SELECT count(*) FROM watch_outbox WHERE status = 'pending'").fetchone()[0]
        assert pending == len(lines) and hook.received == []
        assert f"watch alerts: {len(lines)} delivered, 0 failed, {pending} pending" in \
            first.output
        # one error for the alert that used up its retries, one for the rest held back
        assert first.output.startswith(
            f"Crawled 5 sources: {first.output.split()[3]} new articles, 2 errors")
        assert "HTTP 500 after 5 attempts" in first.output
        assert f"{pending - 1} more alerts to {hook.url} not attempted" in first.output
        assert sleeps == [1.0, 2.0, 4.0, 8.0]  # one alert's retries, not one per alert

        hook.statuses.clear()
        second = CliRunner().invoke(cli, ["--db", str(db), "--config", str(config), "crawl"])
        assert second.exit_code == 0, second.output
        assert f"{pending} from earlier runs" in second.output
    finally:
        hook.close()
    assert len(hook.received) == pending
    assert sqlite3.connect(db).execute("SELECT count(*) FROM watch_outbox").fetchone()[0] == 0


def test_demo_honours_the_global_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "my data" / "news.db"
    db.parent.mkdir()
    result = run("--db", str(db), "demo")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "demo.db").exists()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0] >= 20
    hint = result.output.strip().splitlines()[-1]
    assert hint.startswith(f"Try: aggregator --db '{db}' show "), hint
