"""The fast paths of the dedup features give the same values as the plain ones."""

from __future__ import annotations

import random
import re

import pytest

import aggregator.dedup.fingerprint as fp
from aggregator.dedup.stories import _MODEL, _model_code, extract_models
from aggregator.dedup.urls import canonical_url


def _texts() -> list[str]:
    rnd = random.Random(5)
    words = ["kestrel", "optics", "z6iii", "lens", "the", "a", "24.2mp", "mark", "ii", "x-t5"]
    out = [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 400))) for _ in range(60)]
    out += [" ".join(rnd.choice("abcd") for _ in range(rnd.randint(60, 300))) for _ in range(30)]
    return out


@pytest.mark.skipif(fp._np is None, reason="numpy not installed")
def test_numpy_signature_equals_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts()
    fast = [fp.signature(t) for t in texts]
    monkeypatch.setattr(fp, "_np", None)
    plain = [fp.signature(t) for t in texts]
    assert fast == plain
    assert [fp.band_keys(s) for s in fast] == [fp.band_keys(s) for s in plain]


@pytest.mark.skipif(not fp._LANES, reason="lane path needs a little-endian machine")
@pytest.mark.parametrize("num_perm", [64, 32, 128])
def test_lane_signature_equals_pure_python(monkeypatch: pytest.MonkeyPatch, num_perm: int
                                           ) -> None:
    settings = fp.DedupSettings(num_perm=num_perm, bands=num_perm // 4, rows=4)
    texts = [*_texts(), "one", "one two", "one two three", "a b a b a b a b"]
    monkeypatch.setattr(fp, "_np", None)
    fast = [fp.signature(t, settings) for t in texts]
    monkeypatch.setattr(fp, "_LANES", False)
    plain = [fp.signature(t, settings) for t in texts]
    assert fast == plain


def _models_by_full_scan(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for match in _MODEL.finditer(text):
        code = _model_code(match.group(1))
        if code is None:
            continue
        if match.group(3):
            code += ("MK" if match.group(2) else "") + match.group(3)
        counts[code] = counts.get(code, 0) + 1
    return counts


@pytest.mark.parametrize("text", [
    "The Nikon Z6III and the Fujifilm X-T5 meet the Sony A7R V and the Canon R5 Mark II.",
    "A 24.2MP sensor, f/2.8, 1080p, 4K60 and the R5 II.5 oddity; -R5 .5a 'a5 _a5 a_5 é5 5é",
    "EOS R5 Mark II, EOS R5 Mk II, Z 9, Z9, X100VI, Q3 43, ZV-E10 II. X-H2S.",
    "no digits at all here",
    "",
])
def test_model_codes_equal_full_scan(text: str) -> None:
    assert dict(extract_models(text)) == _models_by_full_scan(text)


def test_canonical_url_cache_and_list_params_agree() -> None:
    url = "HTTPS://WWW.Example.com:443/amp/news/a.html?utm_source=x&b=2&a=1#frag"
    assert canonical_url(url) == canonical_url(url, tracking_params=["utm_*"])
    assert canonical_url(url) == canonical_url(url)


def test_signature_bytes_round_trip_and_cached_decode_agree() -> None:
    from aggregator.store.dedup import _signature

    for text in _texts()[:20]:
        for settings in (fp.DEFAULT_SETTINGS, fp.DedupSettings(num_perm=32, bands=8, rows=4)):
            sig = fp.signature(text, settings)
            data = sig.to_bytes()
            assert fp.Signature.from_bytes(data) == sig
            assert _signature(data) == sig and _signature(bytes(data)) == sig
    assert fp.Signature.from_bytes(fp.signature("").to_bytes()) == fp.signature("")


@pytest.mark.parametrize("text", [
    "The Z6III costs 2,499.00 dollars; it's 24.2MP, f/2.8 -- A_B c'd e.f. 'quoted' end.",
    "Kestrel Optics' X-T5... 1,000,000 units, v2.0.1 beta; O'Neil's 'rock'n'roll' ",
    "", "___", "a.b,c'd..e,,f''g",
])
def test_ascii_tokens_equal_the_unicode_pattern(text: str) -> None:
    expected = [t.replace("'", "") for t in fp._TOKEN.findall(text.lower())]
    assert fp.tokens(text) == expected


def test_ascii_tokens_equal_the_unicode_pattern_on_generated_text() -> None:
    rnd = random.Random(9)
    alphabet = "abcXYZ019 .,'_-\n\t!?"
    for _ in range(300):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 60)))
        assert fp.tokens(text) == [t.replace("'", "") for t in fp._TOKEN.findall(text.lower())]


_NAME_RUN_PLAIN = re.compile(
    r"(?<![\w'’&.-])[A-ZÀ-ÖØ-Þ][\w'’&.-]*(?:[^\S\n]+[A-ZÀ-ÖØ-Þ][\w'’&.-]*)*"
)


def test_name_runs_equal_the_look_behind_first_pattern() -> None:
    from aggregator.dedup.stories import _NAME_RUN

    rnd = random.Random(3)
    alphabet = "aZÉéQ9 .'’&-_\n\tx"
    texts = ["Kestrel Optics announced the Z6III. Anna Lindqvist of Kestrel-Optics said so.",
             "A", "", "xA A.B 'C &D -E _F éG ÉH Müller Straße\nNext Line"]
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
              for _ in range(400)]
    for text in texts:
        assert ([(m.start(), m.group()) for m in _NAME_RUN.finditer(text)]
                == [(m.start(), m.group()) for m in _NAME_RUN_PLAIN.finditer(text)])


def test_shared_entity_weight_equals_the_plain_definition() -> None:
    from aggregator.dedup.stories import _entity_forms, shared_entity_weight

    rnd = random.Random(4)
    words = ["anna", "lindqvist", "kestrel", "optics", "lena", "hofmann", "sprecherin"]
    names = [" ".join(rnd.sample(words, rnd.randint(1, 4))) for _ in range(200)]
    for _ in range(300):
        mine, theirs = rnd.sample(names, 6), rnd.sample(names, 6)
        forms = {f for name in theirs for f in _entity_forms(name)}
        plain = sum((1.0 if " " in n else 0.5) for n in mine
                    if any(f in forms for f in _entity_forms(n)))
        assert shared_entity_weight(mine, theirs) == plain


def test_token_hash_cache_fills_on_miss_and_stays_bounded(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setattr(fp, "_TOKEN_CACHE_MAX", 8)
    monkeypatch.setattr(fp, "_TOKEN_HASHES", fp._TokenHashes())
    words = [f"w{i % 13}" for i in range(60)]
    assert fp._token_hashes(words) == [fp._token_hash(w) for w in words]
    assert 0 < len(fp._TOKEN_HASHES) <= 8


@pytest.mark.parametrize("num_perm", [64, 24, 128])
def test_same_values_counts_equal_positions(num_perm: int) -> None:
    """The lane count of equal values is the plain position-by-position count, whatever
    the values (0, 2**32 - 1, one bit apart in any place)."""
    rnd = random.Random(num_perm)
    edge = [0, 1, 0xFFFFFFFF, 0x80000000, 0x00010000, 0x7FFFFFFF]
    for _ in range(300):
        a = [rnd.choice(edge) if rnd.random() < 0.3 else rnd.getrandbits(32)
             for _ in range(num_perm)]
        b = [x if rnd.random() < 0.5 else (x ^ (1 << rnd.randrange(32))
                                            if rnd.random() < 0.5 else rnd.choice(edge))
             for x in a]
        sa, sb = fp.Signature(tuple(a), 10), fp.Signature(tuple(b), 10)
        assert fp.same_values(sa, sb) == sum(x == y for x, y in zip(a, b, strict=True))
        assert fp.same_values(sa, sa) == num_perm


def test_band_keys_from_stored_bytes_equal_band_keys() -> None:
    for settings in (fp.DEFAULT_SETTINGS, fp.DedupSettings(bands=16, rows=4),
                     fp.DedupSettings(num_perm=32, bands=8, rows=4)):
        for text in _texts() + ["too short", ""]:
            sig = fp.signature(text, settings)
            assert fp.band_keys_of_stored(sig.to_bytes(), settings) == fp.band_keys(sig, settings)
