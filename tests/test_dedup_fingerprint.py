"""Exact hashes, MinHash signatures, band keys and the duplicate decision."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.dedup.fingerprint import (
    DEFAULT_SETTINGS,
    DedupSettings,
    DuplicateCandidate,
    Signature,
    band_keys,
    containment,
    content_hash,
    find_duplicate,
    is_near_duplicate,
    jaccard,
    normalize_text,
    signature,
    similarity,
    tokens,
)

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = """Kestrel Optics today introduced the K7, a full-frame mirrorless camera built around a
newly developed 40-megapixel stacked sensor. The K7 reads its sensor fast enough to record 8K
video at 30 frames per second and to shoot 30 raw frames per second without blackout.

The body houses five-axis in-body stabilisation rated at up to 8 stops, a 5.76-million-dot
electronic viewfinder and two CFexpress Type B card slots. Weather sealing matches the
company's professional K9.

"The K7 is the camera our users have been asking for since we launched the K-mount," said
Anna Lindqvist, chief executive of Kestrel Optics.

The Kestrel K7 will be available from March 24 at a suggested retail price of 2,499 US
dollars for the body alone, or 2,999 dollars in a kit with the K 24-105mm F4 lens."""

OTHER = """Lumora has announced the L35, a compact 35mm f/1.4 prime weighing just 310 grams. It
uses 10 elements in 8 groups and a stepping motor that the company says is silent enough for
video recording. The lens takes 58mm filters, has a weather-sealed mount and will be offered
for two mirrorless systems at 599 dollars, shipping in April after a short delay."""


def test_normalisation_ignores_typography_case_and_spacing() -> None:
    a = "The K7’s “stacked” sensor — 40 MP.\n\nIt ships  in MARCH."
    b = "the k7's \"stacked\" sensor - 40 mp. it ships in march"
    assert normalize_text(a) == normalize_text(b)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(a.replace("MARCH", "APRIL"))
    assert tokens("Version 2.1 costs 1,499 dollars") == ["version", "2.1", "costs", "1,499",
                                                          "dollars"]


def test_signature_round_trip_and_identity() -> None:
    sig = signature(ARTICLE)
    assert len(sig.values) == DEFAULT_SETTINGS.num_perm
    assert Signature.from_bytes(sig.to_bytes()) == sig
    assert signature(ARTICLE) == sig
    assert similarity(sig, sig) == 1.0
    assert jaccard(sig, sig) == 1.0


def test_signature_is_stable_across_processes() -> None:
    """Band keys are stored: they must not depend on Python's salted str hash."""
    code = ("import sys; from aggregator.dedup.fingerprint import band_keys, signature; "
            "print(band_keys(signature(sys.stdin.read())))")
    outs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        outs.add(subprocess.run([sys.executable, "-c", code], input=ARTICLE, env=env,
                                capture_output=True, text=True, check=True).stdout)
    assert outs == {f"{band_keys(signature(ARTICLE))}\n"}


def test_copies_score_high_and_unrelated_low() -> None:
    sig = signature(ARTICLE)
    paragraphs = ARTICLE.split("\n\n")
    syndicated = signature(ARTICLE + "\n\nThis story first appeared on Shutter Notes.")
    trimmed = signature("\n\n".join(paragraphs[1:]))
    intro = signature("Big news this morning for K-mount users.\n\n" + "\n\n".join(paragraphs[:-1]))
    other = signature(OTHER)
    assert similarity(sig, syndicated) > 0.9
    assert similarity(sig, trimmed) > 0.8
    assert similarity(sig, intro) > 0.7
    assert similarity(sig, other) < 0.15
    assert containment(sig, trimmed) >= jaccard(sig, trimmed)
    for copy in (syndicated, trimmed, intro):
        assert is_near_duplicate(sig, copy) is not None
        assert set(band_keys(sig)) & set(band_keys(copy))
    assert is_near_duplicate(sig, other) is None
    assert not set(band_keys(sig)) & set(band_keys(other))


def test_short_texts_get_no_band_keys() -> None:
    sig = signature("Kestrel K7 announced")
    assert sig.size < DEFAULT_SETTINGS.min_shingles
    assert band_keys(sig) == []
    assert signature("").size == 0
    assert is_near_duplicate(sig, sig) is None


def test_band_keys_shape() -> None:
    keys = band_keys(signature(ARTICLE))
    assert len(keys) == DEFAULT_SETTINGS.bands
    assert len(set(keys)) == len(keys)
    assert all(isinstance(k, int) and -(1 << 63) <= k < (1 << 63) for k in keys)


def test_find_duplicate_prefers_exact_then_earliest_original() -> None:
    sig = signature(ARTICLE)
    chash = content_hash(ARTICLE)
    near = signature(ARTICLE + "\n\nRepublished with permission.")
    cands = [
        DuplicateCandidate(9, near, "x", duplicate_of=None),
        DuplicateCandidate(7, near, "y", duplicate_of=3),  # a copy of 3: points at 3
        DuplicateCandidate(12, signature(OTHER), "z"),
    ]
    decision = find_duplicate(sig, chash, cands)
    assert decision is not None and decision.duplicate_of == 3 and not decision.exact
    cands.append(DuplicateCandidate(20, sig, chash))
    decision = find_duplicate(sig, chash, cands)
    assert decision is not None and decision.exact and decision.duplicate_of == 20
    assert decision.similarity == 1.0
    assert find_duplicate(sig, chash, [DuplicateCandidate(1, signature(OTHER), "q")]) is None


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="bands"):
        DedupSettings(num_perm=64, bands=20, rows=4)
    custom = DedupSettings(num_perm=32, bands=8, rows=4)
    assert len(band_keys(signature(ARTICLE, custom), custom)) == 8
