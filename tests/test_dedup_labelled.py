"""The labelled set (fixtures/dedup) through the reference SQLite wiring in bench/dedup.py:
quality floors, different events kept apart, re-adding changes nothing."""

from __future__ import annotations

from types import ModuleType

import bench_modules
import pytest


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return bench_modules.load("dedup")


@pytest.fixture(scope="module")
def quality(bench: ModuleType):
    return bench.run_quality()


def test_labelled_set_shape(bench: ModuleType) -> None:
    rows = bench.load_labelled()
    assert len(rows) >= 60
    assert len({r["story"] for r in rows}) >= 15
    kinds = {r["kind"] for r in rows}
    assert kinds == {"original", "exact", "tracking-url", "amp", "syndicated", "trimmed",
                     "paraphrased", "translated-headline"}
    ids = {r["id"] for r in rows}
    for r in rows:
        assert (r["duplicate_of"] is None) == (r["kind"] == "original")
        assert r["duplicate_of"] is None or r["duplicate_of"] in ids


def test_near_duplicate_floors(quality) -> None:
    assert quality.dup_precision >= 0.98, "\n".join(quality.lines)
    assert quality.dup_recall >= 0.95, "\n".join(quality.lines)


def test_story_floors(quality) -> None:
    assert quality.story_precision >= 0.95, "\n".join(quality.lines)
    assert quality.story_recall >= 0.90, "\n".join(quality.lines)


@pytest.mark.parametrize(("a", "b"), [
    ("alliance-press", "kh1-press"),  # same companies, a year apart
    ("alliance-mag", "kh1-blog"),
    ("k7-press", "k5fw-blog"),  # same company, same week, other product
    ("k7-blog", "k5fw-wire"),
    ("l50-blog", "l35-blog"),  # same lens maker, four days apart
    ("v9fw-blog", "v10-blog"),
    ("sable-mag", "c2-wire"),  # acquisition vs recall
    ("k7-mag", "ceo-mag"),  # launch vs interview a month later
])
def test_different_events_stay_apart(quality, a: str, b: str) -> None:
    assert quality.stories[a] != quality.stories[b]


def test_copies_point_at_their_original(quality) -> None:
    for row in quality.rows:
        if row["duplicate_of"]:
            assert quality.roots[row["id"]] == quality.roots[row["duplicate_of"]], row["id"]


def test_adding_again_changes_nothing(bench: ModuleType, quality) -> None:
    index = quality.index
    before = index.conn.execute(
        "SELECT id, duplicate_of, story_id FROM articles ORDER BY id").fetchall()
    stories = index.conn.execute("SELECT * FROM stories ORDER BY id").fetchall()
    for row in quality.rows:
        stored = index.add(bench._incoming(row))
        assert not stored.new_row
        assert stored.story_id == quality.stories[row["id"]]
    assert index.conn.execute(
        "SELECT id, duplicate_of, story_id FROM articles ORDER BY id").fetchall() == before
    assert index.conn.execute("SELECT * FROM stories ORDER BY id").fetchall() == stories
