"""The store's dedup wiring on real SQLite files: band keys rebuilt when the banding changes,
candidate stories remembered between articles and read again when they change."""

from __future__ import annotations

import logging
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bench_modules
import pytest

from aggregator.dedup import (
    DedupSettings,
    StoryCandidate,
    band_keys,
    entity_keys,
    features_of,
    signature,
)
from aggregator.models import Article
from aggregator.store import Store
from aggregator.store.dedup import Deduplicator

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
OLD_BANDING = DedupSettings(bands=16, rows=4)  # the default before 8 x 3


def prose(seed: int, sentences: int = 12) -> str:
    rng = random.Random(seed)
    # lower-case letters only: no word looks like a name or a model code
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(400)] + ["camera", "lens", "sensor", "price"]
    return " ".join(" ".join(rng.choice(words) for _ in range(14)).capitalize() + "."
                    for _ in range(sentences))


def save(store: Store, n: int, text: str, title: str, *, dedup: DedupSettings | None = None,
         hours: int = 0):  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:9/a/{n}.html"
    art = Article(url=url, title=title, text=text, published=NOW + timedelta(hours=hours))
    return store.save_article(art, source=f"outlet{n}", canonical_url=url, aliases=[],
                              fetched=NOW + timedelta(hours=hours), dedup=dedup)


def band_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM dedup_bands").fetchone()[0])


def test_band_keys_of_another_banding_are_rebuilt_from_signatures(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "news.db"
    texts = [prose(i) for i in range(1, 4)]
    with Store.open(path) as store:  # a store filled with the old default banding
        for n, text in enumerate(texts, 1):
            save(store, n, text, f"Story number {n}", dedup=OLD_BANDING)
    assert band_rows(path) == 3 * 16
    trimmed = texts[0][: len(texts[0]) * 3 // 4]  # a copy of article 1 with its end cut
    with caplog.at_level(logging.WARNING, logger="aggregator.store.db"), \
            Store.open(path) as store:
        result = save(store, 4, trimmed, "Story number 1 (copy)", hours=2)
        again = save(store, 5, prose(9), "Another story", hours=3)
    assert result.created and result.duplicate_of == 1
    assert again.duplicate_of is None
    assert band_rows(path) == 5 * 8  # every article: the 8 keys of the new banding
    rebuilt = [r for r in caplog.records if "band keys rebuilt" in r.getMessage()]
    assert len(rebuilt) == 1 and "for 3 articles (8 bands x 3 rows)" in rebuilt[0].getMessage()
    # the keys are exactly those of the stored signatures under the new banding
    with sqlite3.connect(path) as conn:
        stored = {(k, a) for k, a in conn.execute("SELECT band_key, article_id FROM dedup_bands")}
    expected = {(k, 2) for k in band_keys(signature(texts[1]), DedupSettings())}
    assert expected <= stored


def test_current_band_keys_are_left_alone(tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "news.db"
    with Store.open(path) as store:
        save(store, 1, prose(1), "One")
    with caplog.at_level(logging.WARNING, logger="aggregator.store.db"), \
            Store.open(path) as store:
        save(store, 2, prose(2), "Two")
    assert band_rows(path) == 2 * 8
    assert not [r for r in caplog.records if "band keys rebuilt" in r.getMessage()]


def _features(text: str, title: str, hours: int):  # type: ignore[no-untyped-def]
    return features_of(title, text, NOW + timedelta(hours=hours))


def test_remembered_story_is_read_again_after_another_connection_changes_it(
        tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    title = "Kestrel Optics launches the Lumen 85mm f/1.4 lens"
    with Store.open(path) as store:
        first = save(store, 1, prose(1) + " Kestrel Optics Lumen 85mm.", title)
    one = sqlite3.connect(path, isolation_level=None)
    mine = Deduplicator(one)
    feats = _features(prose(7) + " Kestrel Optics Lumen 85mm.", title, 5)
    top = mine._candidate_stories(entity_keys(feats), NOW)
    assert [sid for sid, _ in top] == [first.story_id]
    before = mine._candidates(top)[0]
    assert before.article_ids == (1,)
    assert mine._candidates(top)[0] is before  # unchanged: remembered, not read again
    # another connection adds an article to the story
    with Store.open(path) as store:
        other = save(store, 2, prose(2) + " Kestrel Optics Lumen 85mm.", title, hours=1)
    assert other.story_id == first.story_id
    top = mine._candidate_stories(entity_keys(feats), NOW)
    after = mine._candidates(top)[0]
    assert after is not before and after.article_ids == (2, 1)
    assert title in after.titles and len(after.titles) == 2
    one.close()


def test_a_rollback_forgets_the_remembered_stories(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    with Store.open(path) as store:
        save(store, 1, prose(1), "Kestrel Optics launches the Lumen 85mm")
        save(store, 2, prose(2), "Kestrel Optics Lumen 85mm review")
        dedup = store._dedup[DedupSettings()]
        dedup._stories[999] = (1, StoryCandidate(999, frozenset()))
        with pytest.raises(RuntimeError), store.transaction():
            raise RuntimeError("boom")
        assert dedup._stories == {}


def test_remembered_stories_give_the_verdicts_of_fresh_reads() -> None:
    """The same synthetic stream (same-event articles, planted copies) through two indexes,
    one remembering candidate stories and one reading them every time: every article gets
    the same original, similarity and story, one transaction per article or 50 at once."""
    bench = bench_modules.load("dedup")
    items = list(bench.Synth(seed=5).stream(1200, NOW, 900.0))
    fresh = bench.DedupIndex(sqlite3.connect(":memory:"), story_cache=0)
    remembering = bench.DedupIndex(sqlite3.connect(":memory:"))
    joined = 0
    stories: set[int] = set()
    for start in range(0, len(items), 50):
        chunk = items[start:start + 50]
        if start % 100:
            with fresh.batch(), remembering.batch():
                pairs = [(fresh.add(i), remembering.add(i)) for i in chunk]
        else:
            pairs = [(fresh.add(i), remembering.add(i)) for i in chunk]
        for a, b in pairs:
            assert a == b
            joined += a.story_id in stories
            stories.add(a.story_id)
    assert joined > 300  # the stream does join stories
    assert remembering.dedup._stories  # and the index did remember some
