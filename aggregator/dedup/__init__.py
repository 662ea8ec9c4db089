"""Duplicates and stories: canonical URLs, text fingerprints, story assignment (all pure).

- ``urls``: ``canonical_url``, ``choose_canonical``, ``DEFAULT_TRACKING_PARAMS``.
- ``fingerprint``: ``DedupSettings`` (every threshold, documented), ``content_hash``,
  ``signature`` / ``Signature`` (one-permutation MinHash, BLOB round trip), ``band_keys``
  (LSH, signed 64-bit ints), ``similarity``, ``find_duplicate``.
- ``stories``: ``features_of``, ``entity_keys``, ``StoryCandidate``, ``assign_story``.

Nothing here does I/O. ``bench/dedup.py`` (class ``DedupIndex``) is the reference wiring into
SQLite that the tests and the benchmark run; the store should do the same.

Store wiring
------------
Tables (besides ``articles``/``url_aliases``/``stories`` as they are)::

    articles      + signature BLOB            -- Signature.to_bytes(), 260 bytes
    dedup_bands   (band_key INTEGER NOT NULL, article_id INTEGER NOT NULL,
                   PRIMARY KEY (band_key, article_id)) WITHOUT ROWID
                                              -- INTEGER: keys are signed 64-bit ints;
                                              -- one covering B-tree; INSERT OR IGNORE
    story_keys    (key TEXT NOT NULL, story_id INTEGER NOT NULL, seen TEXT NOT NULL,
                   PRIMARY KEY (story_id, key)) WITHOUT ROWID
                                              -- rebuild a candidate; INSERT OR IGNORE
                  INDEX (key, seen)           -- candidate lookup inside the time window
                                              -- (covering: holds story_id as well)
    articles      INDEX (content_hash), INDEX (story_id), INDEX (duplicate_of)

``seen`` is the story's ``first_seen`` (UTC ISO 8601, same format everywhere, so text
comparison is time order).

Per article (after extraction; ``settings`` is one ``DedupSettings``):

1. ``canon = choose_canonical(final_url, article.canonical_url, tracking_params=...)``; if
   ``canon`` or any alias is in ``url_aliases``: add the aliases, stop (same article).
2. ``feats = features_of(title, text, published or fetched, attributions, url=canon,
   settings=settings)`` (pure, outside the transaction).
3. Duplicate candidates: ``SELECT id ... WHERE content_hash = ?`` plus
   ``SELECT DISTINCT article_id FROM dedup_bands WHERE band_key IN (band_keys(sig))
   LIMIT settings.max_band_candidates``; load their ``signature``, ``content_hash``,
   ``duplicate_of`` as ``DuplicateCandidate``; ``dup = find_duplicate(sig, hash, cands)``.
   ``dup.duplicate_of`` is always an original (copies of copies point at the first).
4. Story: if ``dup``: the original's ``story_id``. Else ``keys = entity_keys(feats)``;
   per key (one statement, ``UNION ALL`` of)  ``SELECT * FROM (SELECT story_id, key FROM
   story_keys WHERE key = ? AND seen BETWEEN published - window_days AND published +
   window_days ORDER BY seen DESC LIMIT settings.max_key_stories)`` -- a limit per key, so a
   hot brand key cannot crowd out a model code or a press release; weight 3 for
   ``m:``/``p:`` keys, 1 for ``e:``; take the best 4 stories; for each build
   ``StoryCandidate(story_id, all its keys, its newest 6 original titles, first_seen,
   their signatures, their ids)`` -- the store's ``Deduplicator`` remembers the candidates
   it built, each with the story's ``articles`` count read in the same statement, and
   builds one again only when that count changed;
   ``decision = assign_story(feats, candidates, settings)``. If ``dup`` is None and
   ``decision.duplicate_of`` is set, that is a near-duplicate the bands missed: use it.
5. In the same ``BEGIN IMMEDIATE`` transaction, with the id the article will get: its band
   keys (skip for exact copies); a new ``stories`` row when ``decision.story_id`` is None
   (title, first_seen = published, first_source, first_article, articles = 1, sources = 1),
   else update the story's counts (and first_seen/first_source when this article is
   earlier); ``INSERT OR IGNORE INTO story_keys (key, story_id, seen)`` for ``keys``; then
   the article row in one insert with its content_hash, signature, duplicate_of,
   similarity and story_id, and its aliases.

Cost per article is a fixed number of indexed probes (8 band keys, <= ~20 entity keys in
a 14-day window, <= 4 candidate stories), independent of how many articles are stored.
Re-crawling a stored URL stops at step 1, so story assignments never change.
"""

from aggregator.dedup.fingerprint import (
    DEFAULT_SETTINGS,
    DedupSettings,
    DuplicateCandidate,
    DuplicateDecision,
    Signature,
    band_keys,
    band_keys_of_stored,
    content_hash,
    find_duplicate,
    signature,
    similarity,
)
from aggregator.dedup.stories import (
    ArticleFeatures,
    StoryCandidate,
    StoryDecision,
    assign_story,
    entity_keys,
    features_of,
)
from aggregator.dedup.urls import DEFAULT_TRACKING_PARAMS, canonical_url, choose_canonical

__all__ = [
    "DEFAULT_SETTINGS",
    "DEFAULT_TRACKING_PARAMS",
    "ArticleFeatures",
    "DedupSettings",
    "DuplicateCandidate",
    "DuplicateDecision",
    "Signature",
    "StoryCandidate",
    "StoryDecision",
    "assign_story",
    "band_keys",
    "band_keys_of_stored",
    "canonical_url",
    "choose_canonical",
    "content_hash",
    "entity_keys",
    "features_of",
    "find_duplicate",
    "signature",
    "similarity",
]
