"""OPML 2.0: import to [[sources]] TOML (folders as categories), export back, CLI round trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from aggregator.cli import cli
from aggregator.config import load_config, parse_config
from aggregator.errors import ConfigError
from aggregator.models import Source
from aggregator.opml import build_opml, categories_from_toml, parse_opml, to_toml

ROOT = Path(__file__).resolve().parent.parent
OPML = ROOT / "fixtures" / "opml" / "subscriptions.opml"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
BASE_CONFIG = """[[sources]]
name = "petapixel"
title = "PetaPixel"
kind = "rss"
url = "https://petapixel.com/feed/"
interval = "1h"
"""


def test_parse_keeps_folders_as_categories() -> None:
    feeds = parse_opml(OPML.read_bytes())
    by_url = {f.xml_url: f for f in feeds}
    assert by_url["https://www.digitalcameraworld.com/feeds/all"].category == "News"
    assert by_url["https://www.digitalcameraworld.com/feeds/all"].html_url \
        == "https://www.digitalcameraworld.com/"
    assert by_url["https://www.dpreview.com/feeds/news.xml"].category == "News/Reviews"
    assert by_url["https://www.dpreview.com/feeds/news.xml"].title == "DPReview — News & Reviews"
    assert by_url["https://fotoblog.example/rss.xml"].category == "Blogs/German"
    assert by_url["https://q.example/feed"].category is None


def test_to_toml_loads_and_skips_known_and_bad() -> None:
    existing = parse_config(tomllib.loads(BASE_CONFIG), file="c.toml").sources
    text, skipped = to_toml(parse_opml(OPML.read_bytes()), existing=existing)
    settings = parse_config(tomllib.loads(BASE_CONFIG + "\n" + text), file="c.toml")
    names = [s.name for s in settings.sources]
    assert names == ["petapixel", "digital-camera-world", "dpreview-news-reviews",
                     "fotoblog-muller", "quote-and-backslash"]
    assert settings.source("quote-and-backslash").title == 'Quote " and \\ backslash'
    assert {f.xml_url for f in skipped} == {"https://petapixel.com/feed/",
                                            "javascript:alert(1)"}
    cats = categories_from_toml(text)
    assert cats == {"digital-camera-world": "News", "dpreview-news-reviews": "News/Reviews",
                    "fotoblog-muller": "Blogs/German"}


def test_export_builds_folders() -> None:
    sources = [
        Source("dcw", "Digital Camera World", "feed", "https://dcw.example/feed", 3600),
        Source("dpr", "DPReview <news>", "feed", "https://dpr.example/news.xml", 3600),
        Source("leica", "Leica press", "listing", "https://leica.example/press", 3600,
               link_selector="a"),
    ]
    text = build_opml(sources, categories={"dcw": "News", "dpr": "News/Reviews"})
    root = etree.fromstring(text.encode("utf-8"), STRICT)
    assert root.tag == "opml" and root.get("version") == "2.0"
    news = root.find("body/outline[@text='News']")
    assert news.find("outline[@xmlUrl='https://dcw.example/feed']").get("type") == "rss"
    reviews = news.find("outline[@text='Reviews']")
    assert reviews.find("outline").get("title") == "DPReview <news>"
    link = root.find("body/outline[@type='link']")
    assert link.get("url") == "https://leica.example/press"
    # and back again
    back = parse_opml(text)
    assert [(f.title, f.category) for f in back] == [
        ("Digital Camera World", "News"), ("DPReview <news>", "News/Reviews")]


@pytest.mark.parametrize("data, message", [
    (b"<html><body/></html>", "not OPML"),
    (b"<opml version='2.0'><head/></opml>", "without a <body>"),
    (b"<opml><body><outline", "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body>'
     b'<outline text="&a;" xmlUrl="https://x.example/f"/></body></opml>', "DTD"),
])
def test_bad_opml(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_opml(data, file="in.opml")
    assert info.value.file == "in.opml"


def test_cli_import_append_and_export(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(BASE_CONFIG, encoding="utf-8")
    runner = CliRunner()
    args = ["--config", str(config), "--db", str(tmp_path / "x.db"), "sources"]
    shown = runner.invoke(cli, [*args, "import", str(OPML)])
    assert shown.exit_code == 0, shown.output
    assert "[[sources]]" in shown.output
    assert config.read_text(encoding="utf-8") == BASE_CONFIG  # printing changes nothing
    res = runner.invoke(cli, [*args, "import", str(OPML), "--append"])
    assert res.exit_code == 0, res.output
    settings = load_config(config)
    assert len(settings.sources) == 5
    again = runner.invoke(cli, [*args, "import", str(OPML), "--append"])
    assert again.exit_code == 0 and len(load_config(config).sources) == 5  # idempotent
    out = tmp_path / "out.opml"
    res = runner.invoke(cli, [*args, "export", "-o", str(out)])
    assert res.exit_code == 0, res.output
    feeds = parse_opml(out.read_bytes())
    assert {f.xml_url: f.category for f in feeds} == {
        "https://petapixel.com/feed/": None,
        "https://www.digitalcameraworld.com/feeds/all": "News",
        "https://www.dpreview.com/feeds/news.xml": "News/Reviews",
        "https://fotoblog.example/rss.xml": "Blogs/German",
        "https://q.example/feed": None,
    }
    printed = runner.invoke(cli, [*args, "export"])
    assert printed.exit_code == 0 and printed.output.startswith("<?xml")


def test_cli_import_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body>", encoding="utf-8")
    config = tmp_path / "sources.toml"
    config.write_text(BASE_CONFIG, encoding="utf-8")
    res = CliRunner().invoke(cli, ["--config", str(config), "sources", "import", str(bad)])
    assert res.exit_code == 1 and "not well-formed" in res.output
    assert "Traceback" not in res.output


def test_cli_opml_paths_that_cannot_be_written(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(BASE_CONFIG, encoding="utf-8")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    runner = CliRunner()
    missing = tmp_path / "nodir" / "x.opml"
    for target, why in ((missing, "does not exist"), (folder, "is a folder")):
        res = runner.invoke(cli, ["--config", str(config), "sources", "export", "-o",
                                  str(target)])
        assert res.exit_code == 1, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {target}: "), res.output
        assert why in lines[0]
    nodir_config = tmp_path / "nodir" / "cfg.toml"
    res = runner.invoke(cli, ["--config", str(nodir_config), "sources", "import", str(OPML),
                              "--append"])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {nodir_config}: "), res.output
    assert "does not exist" in lines[0]
    assert not (tmp_path / "nodir").exists()
    assert config.read_text(encoding="utf-8") == BASE_CONFIG
