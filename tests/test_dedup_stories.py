"""Story features and assignment: same event together, same companies' other events apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.dedup.fingerprint import DEFAULT_SETTINGS, DedupSettings
from aggregator.dedup.stories import (
    StoryCandidate,
    assign_story,
    entity_keys,
    extract_entities,
    extract_models,
    features_of,
    title_terms,
)
from aggregator.models import Attribution

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
PRESS = "https://kestrel-optics.example/press/kestrel-k7-announcement"


@pytest.mark.parametrize(("text", "expected"), [
    ("The Nikon Z6III and the Z6 III", {"Z6III": 2}),
    ("Fujifilm X-T5 vs XT5", {"XT5": 2}),
    ("the EOS R5 Mark II is here", {"R5MKII": 1}),
    ("the Sony A7R V is here", {"A7RV": 1}),
    ("Kestrel K7 ships", {"K7": 1}),
    ("a 24-70mm F2.8 lens, f/1.4, 4K 60p, 1080p, 40MP, 2026, Q3 results, 8K30p", {}),
    ("firmware 2.1 for the GH7", {"GH7": 1}),
])
def test_extract_models(text: str, expected: dict[str, int]) -> None:
    assert dict(extract_models(text)) == expected


def test_extract_entities() -> None:
    text = ("Kestrel Optics has announced the K7. In a statement, Kestrel Optics CEO Anna "
            "Lindqvist said demand was high. Sony and Nikon lead; Nikon declined to comment. "
            "The camera ships in March.")
    names = extract_entities(text)
    assert names["kestrel optics"] == 2
    assert "anna lindqvist" in names
    assert "nikon" in names  # named twice
    assert "sony" not in names  # once, opening a sentence
    assert "march" not in names and "the" not in names and "ceo" not in names


def test_features_and_keys() -> None:
    feats = features_of(
        "Kestrel K7 hands-on: 40MP, 8K and a low price",
        "We spent two days with the Kestrel K7. The K7 beats the older K5 on handling. "
        "Kestrel Optics says the K7 ships on March 24.",
        T0, [Attribution(kind="press_release", name="Kestrel Optics",
                         url=PRESS + "?utm_source=x")],
        url="https://www.shutternotes.example/k7/?utm_source=rss",
    )
    assert feats.models == {"K7"}  # the K5 is mentioned once in passing
    assert {PRESS, "https://shutternotes.example/k7"} == feats.press_urls
    keys = entity_keys(feats)
    assert "m:K7" in keys and f"p:{PRESS}" in keys
    assert any(k.startswith("e:kestrel") for k in keys)
    assert all(k[:2] in ("m:", "p:", "e:") for k in keys)
    assert title_terms("The K7 is here, and it's fast") == {"k7", "fast"}


def _feats(title: str, text: str, when: datetime, press: str | None = None):
    attrs = [Attribution(kind="press_release", name="x", url=press)] if press else []
    return features_of(title, text, when, attrs)


K7_BLOG = _feats(
    "Kestrel K7 hands-on: stacked 40MP sensor and 8K video",
    "We spent two days with a pre-production Kestrel K7. The stacked 40MP sensor of the K7 "
    "shows little rolling shutter. Kestrel Optics chief Anna Lindqvist says the K7 ships on "
    "March 24 for 2,499 dollars.", T0 + timedelta(hours=2), PRESS)
K7_MAG = _feats(
    "Kestrel's K7 brings stacked-sensor speed to the mid-range",
    "Stacked sensors used to be reserved for flagships. With the K7, Kestrel Optics pushes the "
    "technology down. The K7 shoots 30 frames per second and goes on sale on March 24.",
    T0 + timedelta(hours=4), PRESS)
K5_FIRMWARE = _feats(
    "Kestrel K5 firmware 2.1 adds bird detection",
    "Owners of the Kestrel K5 can download firmware 2.1 today. The K5 gains bird detection, "
    "and Kestrel Optics fixes a battery drain in sleep mode on the K5.",
    T0 + timedelta(days=1))
ALLIANCE = _feats(
    "Halden and Kestrel Optics form the KH-Mount alliance",
    "Halden and Kestrel Optics announced the KH-Mount alliance, a shared lens mount. Halden "
    "president Marco Ferretti and Anna Lindqvist of Kestrel Optics signed it in Milan. "
    "Halden will license the Kestrel Optics protocol.",
    datetime(2025, 5, 14, tzinfo=UTC))
KH1 = _feats(
    "Halden KH1 is the first camera with the KH-Mount from the Kestrel Optics alliance",
    "Halden unveiled the KH1, the first camera with the KH-Mount developed with Kestrel Optics. "
    "Halden president Marco Ferretti said the alliance delivered. The KH1 costs 1,199 dollars "
    "and the KH1 takes Kestrel Optics lenses.",
    datetime(2026, 6, 10, tzinfo=UTC))


def test_same_event_joins() -> None:
    story = StoryCandidate.from_features(1, [K7_BLOG])
    decision = assign_story(K7_MAG, [story])
    assert decision.story_id == 1 and not decision.is_new
    assert any("models" in r for r in decision.reasons)


def test_same_company_same_week_other_product_stays_apart() -> None:
    story = StoryCandidate.from_features(1, [K7_BLOG, K7_MAG])
    decision = assign_story(K5_FIRMWARE, [story])
    assert decision.is_new
    assert "different models" in decision.reasons


def test_same_companies_a_year_later_stay_apart() -> None:
    story = StoryCandidate.from_features(1, [ALLIANCE])
    assert assign_story(KH1, [story]).is_new
    # ...even though, inside the window, the names alone would have been close.
    moved = StoryCandidate(1, story.keys, story.titles, KH1.published, story.signatures)
    assert assign_story(KH1, [moved]).score > 0


def test_window_and_press_release() -> None:
    story = StoryCandidate.from_features(4, [K7_BLOG])
    late = _feats(K7_MAG.title, "Kestrel Optics K7 review.", T0 + timedelta(days=30), PRESS)
    assert assign_story(late, [story]).is_new
    narrow = DedupSettings(window_days=0.01)
    assert assign_story(K7_MAG, [story], narrow).is_new
    bare = _feats("A new camera", "It has a sensor and a lens and ships soon.", T0, PRESS)
    decision = assign_story(bare, [story])
    assert "same press release" in decision.reasons


def test_no_candidates_and_deterministic_ties() -> None:
    assert assign_story(K7_MAG, []).is_new
    a = StoryCandidate.from_features(8, [K7_BLOG])
    b = StoryCandidate.from_features(3, [K7_BLOG])
    assert assign_story(K7_MAG, [a, b]).story_id == 3
    assert assign_story(K7_MAG, [b, a]).story_id == 3


def test_near_duplicate_found_through_story() -> None:
    text = ("We spent two days with a pre-production Kestrel K7 ahead of launch, and it wants "
            "to sit next to the flagship K9 in a working photographer's bag. The stacked 40MP "
            "sensor of the K7 shows little rolling shutter in our brief tests.")
    original = _feats("Kestrel K7 hands-on", text, T0)
    copy = _feats("Kestrel K7 first look", text + " Republished with permission.", T0)
    story = StoryCandidate.from_features(2, [original])
    story = StoryCandidate(2, story.keys, story.titles, story.first_seen, story.signatures,
                           (41,))
    decision = assign_story(copy, [story], DEFAULT_SETTINGS)
    assert decision.story_id == 2 and decision.duplicate_of == 41
    assert decision.similarity is not None and decision.similarity > 0.8


def test_lens_names_and_number_units_in_titles() -> None:
    from aggregator.dedup.stories import lens_names, title_terms

    text = ("Aurel stellt das Lumen 85 mm f/1,4 vor. The Lumen 85mm is fast; the 50mm is not a "
            "name, nor is 'A 35mm', and Sigma's Art 24–70mm counts.")
    assert lens_names(text) == {"lumen 85mm": 2, "art 24-70mm": 1}
    assert title_terms("Lumen 85 mm f/1,4: Erster Eindruck") >= {"85mm", "1.4", "lumen"}
    assert title_terms("Aurel unveils Lumen 85mm f/1.4") >= {"85mm", "1.4", "lumen"}


def test_one_lens_in_three_languages_is_one_story_and_another_lens_is_not() -> None:
    """A launch report, and a German first impression three days later that shares no body
    text with it: the lens name and the maker carry it into the story; the same maker's
    other lens, the same week, stays apart."""
    from datetime import UTC, datetime

    from aggregator.dedup.stories import StoryCandidate, assign_story, features_of

    t0 = datetime(2026, 9, 22, 14, tzinfo=UTC)
    launch = features_of(
        "Aurel unveils Lumen 85mm f/1.4 at the Fotomesse",
        "Aurel has unveiled the Lumen 85mm f/1.4 at the Fotomesse in Cologne. The Lumen 85mm "
        "weighs 640 g and ships in October, Aurel said.", t0)
    story = StoryCandidate.from_features(1, [launch])
    german = features_of(
        "Aurel Lumen 85 mm f/1,4: Erster Eindruck von der Fotomesse",
        "Auf der Fotomesse konnte ich das Lumen 85 mm von Aurel kurz ausprobieren. Das Lumen "
        "85 mm fokussiert leise und schnell, sagt Aurel.", datetime(2026, 9, 25, tzinfo=UTC))
    other = features_of(
        "Aurel shows a Lumen 35mm f/1.2 prototype",
        "Aurel also showed a Lumen 35mm f/1.2 prototype at its stand. The Lumen 35mm is due "
        "next spring.", datetime(2026, 9, 23, tzinfo=UTC))
    assert assign_story(german, [story]).story_id == 1
    assert assign_story(other, [story]).story_id is None
