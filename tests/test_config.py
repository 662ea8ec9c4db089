"""Config loading: the real files load; every kind of mistake gives one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import load_config, parse_interval
from aggregator.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

GOOD_SOURCE = """
[[sources]]
name = "one"
title = "One"
kind = "rss"
url = "https://example.org/feed.xml"
interval = "30m"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_real_sources_config_loads() -> None:
    settings = load_config(ROOT / "config" / "sources.toml")
    names = {s.name for s in settings.sources}
    assert {"digitalcameraworld", "leica-press", "lightstalking", "petapixel", "dpreview"} <= names
    dcw = settings.source("digitalcameraworld")
    assert dcw.kind == "feed" and dcw.url == "https://www.digitalcameraworld.com/feeds/all"
    leica = settings.source("leica-press")
    assert leica.kind == "listing" and leica.link_selector
    assert settings.fetch.allow_private == ()  # real config never allows private addresses


def test_demo_config_fills_in_base() -> None:
    settings = load_config(ROOT / "config" / "demo.toml", variables={"base": "http://127.0.0.1:9"})
    assert all(s.url.startswith("http://127.0.0.1:9/") for s in settings.sources)
    assert "127.0.0.1" in settings.fetch.allow_private
    kinds = {s.kind for s in settings.sources}
    assert kinds == {"feed", "listing"}


def test_demo_config_without_base_says_why() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(ROOT / "config" / "demo.toml")
    assert "{base}" in str(err.value) and "url" in str(err.value)


@pytest.mark.parametrize("value, seconds", [
    ("30m", 1800), ("2h", 7200), ("1d", 86400), ("90s", 90), (600, 600), ("1.5h", 5400),
])
def test_intervals(value: object, seconds: int) -> None:
    assert parse_interval(value) == seconds


@pytest.mark.parametrize("text, field, words", [
    (GOOD_SOURCE.replace('interval = "30m"', 'interval = "30m"\ncolour = "red"'),
     "colour", "unknown key"),
    (GOOD_SOURCE.replace("https://example.org/feed.xml", "ftp://example.org/feed"),
     "url", "not an http(s) URL"),
    (GOOD_SOURCE.replace("https://example.org/feed.xml", "example.org/feed"),
     "url", "not an http(s) URL"),
    (GOOD_SOURCE.replace('"30m"', '"soon"'), "interval", "not a duration"),
    (GOOD_SOURCE.replace('"30m"', '"0s"'), "interval", "outside"),
    (GOOD_SOURCE.replace('"30m"', "true"), "interval", "duration"),
    (GOOD_SOURCE + GOOD_SOURCE, "name", "duplicate source name"),
    (GOOD_SOURCE.replace('kind = "rss"', 'kind = "podcast"'), "kind", "expected one of"),
    (GOOD_SOURCE.replace('kind = "rss"', 'kind = "listing"'), "link_selector", "needs a CSS"),
    (GOOD_SOURCE.replace('kind = "rss"', 'kind = "listing"\nlink_selector = "a[["'),
     "link_selector", "not a valid CSS selector"),
    (GOOD_SOURCE.replace('name = "one"', 'name = "Has Spaces"'), "name", "name must be"),
    ("[fetch]\ntimeout = \"fast\"\n" + GOOD_SOURCE, "fetch.timeout", "expected float"),
    ("[fetch]\nspeed = 3\n" + GOOD_SOURCE, "fetch.speed", "unknown key"),
    ("", "sources", "at least one"),
])
def test_config_errors_name_file_source_and_field(
    tmp_path: Path, text: str, field: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert f"field {field!r}" in message
    assert words in message
    assert "\n" not in message


def test_error_names_the_source(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_SOURCE.replace('"30m"', '"soon"'))
    with pytest.raises(ConfigError, match="source 'one'"):
        load_config(path)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[[sources]\nname="))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_rules_and_tracking_params(tmp_path: Path) -> None:
    text = GOOD_SOURCE + """
[dedup]
tracking_params = ["utm_*", "ref"]

[[rules]]
match = "https://example.org/news/"
body = [".article-body"]
drop = [".ad", ".related"]
"""
    settings = load_config(write(tmp_path, text))
    assert settings.tracking_params == ("utm_*", "ref")
    (rule,) = settings.rules
    assert rule.match == "example.org/news"
    assert rule.body == (".article-body",) and rule.drop == (".ad", ".related")


def test_every_dedup_setting_loads_and_readme_gives_its_default(tmp_path: Path) -> None:
    import dataclasses
    import re
    import tomllib

    from aggregator.dedup import DedupSettings
    from aggregator.dedup.urls import DEFAULT_TRACKING_PARAMS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^\[dedup\].*?(?=^\[\[sources\]\])", readme, flags=re.M | re.S)
    assert block
    documented = tomllib.loads(block.group(0))["dedup"]
    defaults = DedupSettings()
    fields = {f.name for f in dataclasses.fields(DedupSettings)}
    assert set(documented) == fields | {"tracking_params"}
    assert tuple(documented.pop("tracking_params")) == DEFAULT_TRACKING_PARAMS
    for name, value in documented.items():
        assert getattr(defaults, name) == value, name
    # the README's table, as written, loads and gives the defaults
    settings = load_config(write(tmp_path, GOOD_SOURCE + block.group(0)))
    assert settings.dedup == defaults and settings.tracking_params == DEFAULT_TRACKING_PARAMS


def test_story_candidate_caps_are_settings(tmp_path: Path) -> None:
    text = GOOD_SOURCE + "[dedup]\nmax_candidate_stories = 2\nmax_story_articles = 3\n"
    settings = load_config(write(tmp_path, text))
    assert settings.dedup.max_candidate_stories == 2
    assert settings.dedup.max_story_articles == 3
    with pytest.raises(ConfigError, match="must be positive"):
        load_config(write(tmp_path, GOOD_SOURCE + "[dedup]\nmax_story_articles = 0\n"))
    # ... and the store's story lookup uses them
    import sqlite3

    from aggregator.store.dedup import Deduplicator

    dd = Deduplicator(sqlite3.connect(":memory:"), settings.dedup)
    assert "LIMIT 2) r" in dd._stories_sql(1)


def test_watch_naming_an_unknown_source(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_SOURCE + """
[[watches]]
name = "w"
query = "leica"
sources = ["one", "zzz"]
jsonl = "a.jsonl"
""")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: field 'watches[0] (w).sources': "
                              "no source named 'zzz' in this config")
    path.write_text(path.read_text(encoding="utf-8").replace(', "zzz"', ""), encoding="utf-8")
    assert load_config(path).watches[0].sources == ("one",)


def test_watch_unknown_source_through_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aggregator.cli import cli

    path = write(tmp_path, GOOD_SOURCE + """
[[watches]]
name = "w"
query = "leica"
sources = ["zzz"]
jsonl = "a.jsonl"
""")
    res = CliRunner().invoke(cli, ["--config", str(path), "--db", str(tmp_path / "x.db"),
                                   "crawl"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        f"Error: {path}: field 'watches[0] (w).sources': no source named 'zzz' in this config"]
