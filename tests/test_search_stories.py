"""One row per story: `aggregator search` on a hand-filled database (real SQLite via Store)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.models import Article
from aggregator.store import Store

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
WORDS = ["lens", "sensor", "shutter", "dealer", "price", "body", "grip", "mount", "zoom",
         "prime", "flash", "tripod", "battery", "firmware", "menu", "dial", "viewfinder",
         "screen", "card", "slot", "weather", "seal", "autofocus", "video"]


def prose(rng: random.Random, n: int = 80) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """One big story (120 articles with "kestrel" in the title) and 5 small ones that
    mention it once in the body, so they rank below every article of the big story."""
    rng = random.Random(7)
    path = tmp_path / "news.db"
    with Store.open(path) as store:
        plan = [(1, 120, "Kestrel kestrel K9 kestrel"),
                *((s, 1, "Camera news") for s in range(2, 7))]
        n = 0
        for _story, count, title in plan:
            for _ in range(count):
                n += 1
                url = f"http://127.0.0.1:9/a/{n}.html"
                body = prose(rng) + (" A kestrel was seen." if count == 1 else "")
                art = Article(url=url, title=f"{title} {n}", text=body,
                              published=NOW - timedelta(hours=n))
                store.save_article(art, source="blog", canonical_url=url, aliases=[],
                                   fetched=NOW - timedelta(hours=n))
        # The stories as planned, whatever the dedup stage made of these random texts.
        with store.transaction() as conn:
            conn.execute("DELETE FROM stories")
            conn.execute("UPDATE articles SET duplicate_of = NULL, similarity = NULL")
            first = 1
            for story, count, title in plan:
                conn.execute("INSERT INTO stories (id, title, first_seen, first_source,"
                             " first_article, articles, sources) VALUES (?, ?, ?, 'blog', ?,"
                             " ?, 1)", (story, title, NOW.isoformat(), first, count))
                conn.execute("UPDATE articles SET story_id = ? WHERE id >= ? AND id < ?",
                             (story, first, first + count))
                first += count
    return path


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_one_row_per_story_fills_the_limit(db: Path, sort: str) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "search", "kestrel", "--limit", "4",
                                      "--sort", sort, "--format", "json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    stories = [h["story_id"] for h in hits]
    assert len(hits) == 4 and len(set(stories)) == 4, stories
    if sort == "relevance":
        assert stories[0] == 1 and hits[0]["story_articles"] == 120


def test_one_row_per_story_when_fewer_stories_match(db: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(db), "search", "kestrel", "--limit", "50",
                                      "--format", "json"])
    assert sorted(h["story_id"] for h in json.loads(result.output)) == [1, 2, 3, 4, 5, 6]
