"""Text fingerprints: an exact content hash and a MinHash signature with LSH band keys.

Exact duplicates: ``content_hash(text)`` hashes the *normalised* body (Unicode NFKC, case
folded, punctuation and whitespace differences ignored), so the same article re-rendered with
other quotes, dashes or line breaks hashes the same.

Near duplicates: ``signature(text)`` is a one-permutation MinHash (Li, Owen & Zhang 2012, with
rotation densification, Shrivastava & Li 2014) over word shingles. One 64-bit hash per
shingle (blake2b) is split into ``num_perm`` bins and the minimum of each bin kept, so the cost
is linear in the text length and independent of ``num_perm`` (word hashes are cached and
combined per shingle, then mixed by an xor-shift-multiply round). ``band_keys(sig)`` cuts the
first ``bands * rows`` values of the signature into ``bands`` bands of ``rows`` values and
hashes each band (with its index) to a signed 64-bit integer: two texts share at least one
band key with probability ``1 - (1 - J**rows)**bands`` for Jaccard similarity J. The store
keeps the keys in an indexed table ``(band_key INTEGER, article_id)``; a lookup is one
indexed probe per band, whatever the number of stored articles.

``similarity(a, b)`` estimates how much of the smaller text the larger one contains (the
overlap coefficient |A∩B| / min(|A|,|B|), from the MinHash Jaccard estimate and the shingle
counts), so a copy with the intro or ending cut still scores high. ``jaccard(a, b)`` is the
plain estimate.

Signatures are stable across processes and machines (no use of Python's salted ``hash``):
``Signature.to_bytes()`` / ``Signature.from_bytes()`` store them as a BLOB.
"""

from __future__ import annotations

import hashlib
import re
import struct
import sys
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

try:  # optional: vectorised shingle hashing and bin minima (same values as the pure path)
    import numpy as _np
except ImportError:  # pragma: no cover - the pure-Python path below gives equal signatures
    _np = None

__all__ = [
    "DEFAULT_SETTINGS",
    "DedupSettings",
    "DuplicateCandidate",
    "DuplicateDecision",
    "Signature",
    "band_keys",
    "band_keys_of_stored",
    "containment",
    "content_hash",
    "find_duplicate",
    "is_near_duplicate",
    "jaccard",
    "normalize_text",
    "signature",
    "same_values",
    "signature_of_tokens",
    "content_hash_of_tokens",
    "similarity",
    "tokens",
]


@dataclass(frozen=True)
class DedupSettings:
    """Every threshold of duplicate detection and story assignment, with its default.

    Fingerprints:
      num_perm: MinHash bins per signature (changing it or ``shingle`` makes stored
        signatures incomparable: start a new database after such a change).
      bands, rows: LSH banding over the first ``bands * rows`` bins (at most ``num_perm``):
        two texts share a band key with probability ``1 - (1 - J**rows)**bands``. Defaults
        8 x 3: 0.66 at Jaccard 0.5, 0.97 at 0.7, > 0.9999 at 0.9 (3-word shingles) -- the
        same curve as 16 x 4 from J = 0.45 up, with half the keys to store and probe. The
        store re-indexes its band keys from the stored signatures when these change.
      shingle: words per shingle.
      min_shingles: texts with fewer distinct shingles get no band keys (too short for a
        near-duplicate decision; exact hash still applies).

    Near-duplicate decision:
      near_duplicate: minimum ``similarity`` (overlap of the smaller text) to call two
        texts near-duplicates.
      near_duplicate_jaccard: minimum plain Jaccard as well, unless the smaller text is at
        least ``trimmed_ratio`` of the larger (guards against a short text that happens
        to be quoted in a long one).
      max_band_candidates: postings read per band key (cap for hot keys).

    Stories:
      window_days: an article joins a story only if published within this many days of
        the story's first article (and not more than this before it).
      story_threshold: minimum score for joining an existing story (see stories.py).
      title_weight, entity_weight, model_weight, body_weight: score weights.
      entity_saturation: shared-name weight at which the entity part is full.
      press_release_bonus: added when both cite the same press-release URL.
      model_conflict_penalty: subtracted when both name product models and none is shared.
      max_key_stories: stories read per entity key (cap for hot keys such as brands).
      max_candidate_stories: stories scored for each new article (those sharing the most
        keys with it).
      max_story_articles: newest originals of each candidate story compared with it.
      entity_scan_chars: names and model codes are looked for in the title and this many
        leading characters of the body (news names its subject early; bounds the cost).
    """

    num_perm: int = 64
    bands: int = 8
    rows: int = 3
    shingle: int = 3
    min_shingles: int = 8
    near_duplicate: float = 0.5
    near_duplicate_jaccard: float = 0.3
    trimmed_ratio: float = 0.4
    max_band_candidates: int = 50
    window_days: float = 7.0
    story_threshold: float = 0.5
    title_weight: float = 0.35
    entity_weight: float = 0.45
    entity_saturation: float = 3.0
    model_weight: float = 0.45
    body_weight: float = 0.35
    press_release_bonus: float = 0.6
    model_conflict_penalty: float = 0.5
    max_key_stories: int = 50
    max_candidate_stories: int = 4
    max_story_articles: int = 6
    entity_scan_chars: int = 6000

    def __post_init__(self) -> None:
        if self.bands < 1 or self.rows < 1:
            raise ValueError("bands and rows must be positive")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands * rows must be at most num_perm ({self.bands} * "
                             f"{self.rows} > {self.num_perm})")
        if self.shingle < 1 or self.num_perm < 1:
            raise ValueError("shingle and num_perm must be positive")
        if self.max_candidate_stories < 1 or self.max_story_articles < 1:
            raise ValueError("max_candidate_stories and max_story_articles must be positive")


DEFAULT_SETTINGS = DedupSettings()

_MASK32 = 0xFFFFFFFF
_EMPTY = _MASK32 + 1  # marker for an empty bin before densification
_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
# The same pattern for lower-cased ASCII text, where [^\W_] is [a-z0-9] (and ’ cannot
# occur): plain character sets, no Unicode category look-ups.
_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*")
_TRANSLATE = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "\u00ad": None,
    "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None,
})


def normalize_text(text: str) -> str:
    """NFKC, case-folded, typographic quotes/dashes unified, words joined by single spaces."""
    return " ".join(tokens(text))


def tokens(text: str) -> list[str]:
    """The words of ``text``, normalised (NFKC, case-folded); numbers keep "24.2" together."""
    if text.isascii():  # NFKC and the typography table change nothing; casefold is lower
        folded = text.lower()
        pattern = _ASCII_TOKEN
    else:
        folded = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
        pattern = _TOKEN
    if "'" not in folded:
        return pattern.findall(folded)
    return [t.replace("'", "") for t in pattern.findall(folded)]


def content_hash(text: str) -> str:
    """Hex digest of the normalised text: equal for texts differing only in punctuation,
    case, whitespace and typography."""
    return content_hash_of_tokens(tokens(text))


def content_hash_of_tokens(words: Sequence[str]) -> str:
    """``content_hash`` of already tokenised text."""
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Signature:
    """A MinHash signature: ``values`` (num_perm 32-bit bin minima) and ``size`` (the number
    of distinct shingles; 0 for an empty text)."""

    values: tuple[int, ...]
    size: int

    def to_bytes(self) -> bytes:
        return struct.pack(f"<I{len(self.values)}I", self.size, *self.values)

    @cached_property
    def lanes(self) -> int:
        """The values as one integer, value i in bits 32*i .. 32*i+31 (for ``same_values``)."""
        return int.from_bytes(struct.pack(f"<{len(self.values)}I", *self.values), "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        values = _unpacker(len(data) // 4).unpack(data)
        return cls(values[1:], values[0])


@lru_cache(maxsize=8)
def _unpacker(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}I")


_M64 = (1 << 64) - 1
_K1 = 0x9E3779B97F4A7C15
_K2 = 0xC2B2AE3D27D4EB4F
_K3 = 0xBF58476D1CE4E5B9


_TOKEN_CACHE_MAX = 1 << 18


def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")


class _TokenHashes(dict[str, int]):
    """word -> ``_token_hash(word)``, filled on a miss (cleared when it holds
    ``_TOKEN_CACHE_MAX`` words): a lookup is the plain dict's, a miss costs only its hash."""

    def __missing__(self, word: str) -> int:
        if len(self) >= _TOKEN_CACHE_MAX:
            self.clear()
        value = self[word] = _token_hash(word)
        return value


_TOKEN_HASHES = _TokenHashes()


def _token_hashes(words: Sequence[str]) -> list[int]:
    """``_token_hash`` of every word, through a bounded dict (a C-level map)."""
    return list(map(_TOKEN_HASHES.__getitem__, words))


def _shingle_hashes(words: Sequence[str], k: int) -> set[int]:
    """Distinct 64-bit hashes of the k-word shingles (one shingle for shorter texts)."""
    hs = _token_hashes(words)
    if not hs:
        return set()
    if len(hs) < k:
        k = len(hs)
    if k == 1:
        return set(hs)
    if k == 2:
        return {(a * _K1 ^ b) & _M64 for a, b in zip(hs, hs[1:], strict=False)}
    if k == 3:
        triples = zip(hs, hs[1:], hs[2:], strict=False)
        return {(a * _K1 ^ b * _K2 ^ c) & _M64 for a, b, c in triples}
    out = set()
    for i in range(len(hs) - k + 1):
        h = 0
        for x in hs[i:i + k]:
            h = (h * _K1 ^ x) & _M64
        out.add(h)
    return out


def _mixed_shingle_hashes(words: Sequence[str], k: int) -> set[int]:
    """The shingle hashes after one xor-shift-multiply round (a bijection of 64-bit values, so
    there is one per distinct shingle); for 3-word shingles in the same comprehension."""
    if k == 3 and len(words) >= 3:
        hs = _token_hashes(words)
        return {(((s := (a * _K1 ^ b * _K2 ^ c) & _M64) ^ (s >> 31)) * _K3) & _M64
                for a, b, c in zip(hs, hs[1:], hs[2:], strict=False)}
    return {((h ^ (h >> 31)) * _K3) & _M64 for h in _shingle_hashes(words, k)}


# ``_bins_lanes`` reads little-endian bytes back as native arrays of 32- and 64-bit values.
_LANES = sys.byteorder == "little" and array("I").itemsize == 4 and array("Q").itemsize == 8
# Lane masks for ``_bins_lanes``: in every 128-bit lane, its low 64 bits / bits 40..45.
_LANE_MASKS: list[int] = [0, 0]


def _lane_masks(lanes: int) -> list[int]:
    if _LANE_MASKS[0].bit_length() < 128 * lanes - 64:
        count = max(lanes, 2 * (_LANE_MASKS[0].bit_length() // 128) + 2)
        _LANE_MASKS[0] = int.from_bytes((b"\xff" * 8 + b"\0" * 8) * count, "little")
        _LANE_MASKS[1] = int.from_bytes((b"\0" * 5 + b"\x3f" + b"\0" * 10) * count, "little")
    return _LANE_MASKS


def _bins_lanes(words: Sequence[str], k: int) -> tuple[list[int], int]:
    """Bin minima and distinct-shingle count for 3-word shingles (at least 3 words), with
    every word's arithmetic done at once on one big integer: word hash i sits in the low
    64 bits of 128-bit lane i, so a multiplication by a 64-bit constant keeps each product
    in its own lane, masking takes each lane mod 2**64 and a shift by 128 bits moves lane
    i+1 onto lane i. The same values as ``_mixed_shingle_hashes`` + the bin loop."""
    hs = _token_hashes(words)
    n = len(hs)
    packed = array("Q", bytes(16 * n))
    packed[::2] = array("Q", hs)
    h = int.from_bytes(packed, "little")
    m64, m_bin = _lane_masks(n)
    s = ((h * _K1) & m64) ^ (((h * _K2) & m64) >> 128) ^ (h >> 256)  # lane i: shingle i
    s = (((s ^ (s >> 31)) & m64) * _K3) & m64  # the xor-shift-multiply round, lane-wise
    # lanes 0..n-3 hold the n-2 shingles; the last two lanes are partial sums, not read
    mixed = array("Q", s.to_bytes(16 * n, "little"))
    size = len(set(mixed[0:2 * (n - 2):2]))
    values = array("I", mixed.tobytes())[0:4 * (n - 2):4]  # low 32 bits of each lane
    if k == 64:  # the bin is (h >> 40) % 64: one byte of the lane, cut out all at once
        which = ((s & m_bin) >> 40).to_bytes(16 * n, "little")[0:16 * (n - 2):16]
    else:
        which = bytes(0)
    bins = [_EMPTY] * k
    if which:
        for b, v in zip(which, values, strict=True):
            if v < bins[b]:
                bins[b] = v
    else:
        for h64 in mixed[0:2 * (n - 2):2]:
            b = (h64 >> 40) % k
            v = h64 & _MASK32
            if v < bins[b]:
                bins[b] = v
    return bins, size


def signature(text: str, settings: DedupSettings = DEFAULT_SETTINGS) -> Signature:
    """The MinHash signature of ``text`` (see the module docstring)."""
    return signature_of_tokens(tokens(text), settings)


def _bins_numpy(words: Sequence[str], k: int) -> tuple[list[int], int]:
    """Bin minima and distinct-shingle count for 3-word shingles, vectorised: the same
    arithmetic as ``_shingle_hashes`` + the mixing loop, in wrapping uint64."""
    np = _np
    hs = np.fromiter(map(_TOKEN_HASHES.__getitem__, words), dtype=np.uint64, count=len(words))
    sh = (hs[:-2] * _NP_K1) ^ (hs[1:-1] * _NP_K2) ^ hs[2:]
    h = (sh ^ (sh >> _NP_31)) * _NP_K3  # a bijection: distinct shingles stay distinct
    h.sort()
    size = int(np.count_nonzero(h[1:] != h[:-1])) + 1
    key = (((h >> _NP_40) % np.uint64(k)) << _NP_32) | (h & _NP_MASK32)
    key.sort()
    bin_of = key >> _NP_32
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(bin_of[1:], bin_of[:-1], out=first[1:])
    bins = [_EMPTY] * k
    for b, v in zip(bin_of[first].tolist(), (key[first] & _NP_MASK32).tolist(), strict=True):
        bins[b] = v
    return bins, size


if _np is not None:
    _NP_K1, _NP_K2, _NP_K3 = _np.uint64(_K1), _np.uint64(_K2), _np.uint64(_K3)
    _NP_31, _NP_32, _NP_40 = _np.uint64(31), _np.uint64(32), _np.uint64(40)
    _NP_MASK32 = _np.uint64(_MASK32)


def signature_of_tokens(words: Sequence[str], settings: DedupSettings = DEFAULT_SETTINGS
                        ) -> Signature:
    """The signature of already tokenised text (``tokens(text)``)."""
    k = settings.num_perm
    if _np is not None and settings.shingle == 3 and len(words) >= 64:
        bins, size = _bins_numpy(words, k)
    elif _LANES and settings.shingle == 3 and len(words) >= 3:
        bins, size = _bins_lanes(words, k)
    else:
        bins = [_EMPTY] * k
        shingles = _mixed_shingle_hashes(words, settings.shingle)
        for h in shingles:
            # one xor-shift-multiply round: high bits pick the bin, low bits are the value
            b = (h >> 40) % k
            v = h & _MASK32
            if v < bins[b]:
                bins[b] = v
        size = len(shingles)
    if size == 0:
        return Signature(tuple([_MASK32] * k), 0)
    # Rotation densification: an empty bin borrows the value of the next non-empty bin
    # (circularly), offset by the distance so borrowed values differ from the original.
    if _EMPTY in bins:
        out = list(bins)
        nearest = -1
        # Walk the circle backwards twice: each empty bin meets its next filled bin first.
        for step in range(2 * k - 1, -1, -1):
            i = step % k
            if bins[i] != _EMPTY:
                nearest = i
            elif step < k:
                out[i] = (bins[nearest] + ((nearest - i) % k) * 0x9E3779B1) & _MASK32
        bins = out
    return Signature(tuple(bins), size)


def band_keys(sig: Signature, settings: DedupSettings = DEFAULT_SETTINGS) -> list[int]:
    """One signed 64-bit key per LSH band (empty for texts under ``min_shingles``)."""
    if sig.size < settings.min_shingles:
        return []
    return _band_keys_packed(sig.lanes.to_bytes(4 * len(sig.values), "little"), settings)


def band_keys_of_stored(data: bytes, settings: DedupSettings = DEFAULT_SETTINGS) -> list[int]:
    """``band_keys(Signature.from_bytes(data))`` read straight from the stored bytes."""
    if len(data) < 4 or int.from_bytes(data[:4], "little") < settings.min_shingles:
        return []
    return _band_keys_packed(data[4:], settings)


_BAND_NO = struct.Struct("<I").pack


def _band_keys_packed(packed: bytes, settings: DedupSettings) -> list[int]:
    """The band keys of signature values packed as little-endian 32-bit integers."""
    width = 4 * settings.rows
    blake, from_bytes = hashlib.blake2b, int.from_bytes
    return [from_bytes(blake(_BAND_NO(band) + packed[band * width:(band + 1) * width],
                             digest_size=8).digest(), "little", signed=True)
            for band in range(settings.bands)]


_LANE_BITS: list[int] = [0]  # bit 0 of every 32-bit lane, for as many lanes as asked so far


def same_values(a: Signature, b: Signature) -> int:
    """How many positions the two signatures (of one length) hold the same value at: the
    lanes of ``a.lanes ^ b.lanes`` that are zero, counted on the whole integer at once."""
    count = len(a.values)
    x = a.lanes ^ b.lanes
    # fold each 32-bit lane onto its lowest bit (shifts add up to 31: no lane reads the next)
    x |= x >> 16
    x |= x >> 8
    x |= x >> 4
    x |= x >> 2
    x |= x >> 1
    mask = _LANE_BITS[0]
    if mask.bit_length() < 32 * count - 31:
        mask = _LANE_BITS[0] = int.from_bytes(b"\x01\0\0\0" * count, "little")
    return count - (x & mask).bit_count()


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if not a.size or not b.size or len(a.values) != len(b.values):
        return 0.0
    return same_values(a, b) / len(a.values)


def containment(a: Signature, b: Signature) -> float:
    """Estimated |A∩B| / min(|A|,|B|) (overlap coefficient), from Jaccard and set sizes."""
    j = jaccard(a, b)
    if j == 0.0:
        return 0.0
    inter = j * (a.size + b.size) / (1.0 + j)
    return min(1.0, inter / min(a.size, b.size))


def similarity(a: Signature, b: Signature) -> float:
    """The near-duplicate score: the estimated overlap of the smaller text (0..1)."""
    return containment(a, b)


def is_near_duplicate(a: Signature, b: Signature,
                      settings: DedupSettings = DEFAULT_SETTINGS) -> float | None:
    """The similarity when ``a`` and ``b`` are near-duplicates under ``settings``, else None."""
    if min(a.size, b.size) < settings.min_shingles:
        return None
    score = similarity(a, b)
    if score < settings.near_duplicate:
        return None
    ratio = min(a.size, b.size) / max(a.size, b.size)
    if ratio < settings.trimmed_ratio and jaccard(a, b) < settings.near_duplicate_jaccard:
        return None
    return score


@dataclass(frozen=True)
class DuplicateCandidate:
    """A stored article found through ``content_hash`` or a shared band key."""

    article_id: int
    signature: Signature
    content_hash: str
    duplicate_of: int | None = None  # the stored article's own original, if it is a copy

    @property
    def root(self) -> int:
        return self.duplicate_of if self.duplicate_of is not None else self.article_id


@dataclass(frozen=True)
class DuplicateDecision:
    """The new article is a copy of ``duplicate_of`` (always an original, never a copy of a
    copy) with ``similarity`` (1.0 for an exact copy); ``exact`` for the same normalised text."""

    duplicate_of: int
    similarity: float
    exact: bool


def find_duplicate(sig: Signature, text_hash: str, candidates: Iterable[DuplicateCandidate],
                   settings: DedupSettings = DEFAULT_SETTINGS) -> DuplicateDecision | None:
    """Decide whether an incoming article copies one of ``candidates``.

    An exact match (same ``content_hash``) wins; otherwise every candidate passing
    ``is_near_duplicate`` counts and the earliest original (lowest root id) is chosen, with the
    best similarity found for it. Returns None when nothing matches."""
    best: DuplicateDecision | None = None
    for cand in candidates:
        if cand.content_hash == text_hash:
            decision = DuplicateDecision(cand.root, 1.0, True)
        else:
            score = is_near_duplicate(sig, cand.signature, settings)
            if score is None:
                continue
            decision = DuplicateDecision(cand.root, round(score, 4), False)
        if best is None or (decision.exact, -decision.duplicate_of, decision.similarity) > (
                best.exact, -best.duplicate_of, best.similarity):
            best = decision
    return best
