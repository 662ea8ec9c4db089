"""Duplicate and story benchmark: quality on the labelled set, speed and memory at scale.

    .venv/bin/python bench/dedup.py                  # quality + scale at 10k, 100k, 1M
    .venv/bin/python bench/dedup.py --quality        # quality only (a second)
    .venv/bin/python bench/dedup.py --sizes 10000 100000 --window 2000

Quality: fixtures/dedup/articles.jsonl goes, in published order, through ``DedupIndex`` (a
small SQLite store with the band and story-key tables the real store keeps, wired the way
the store should wire aggregator.dedup). Pairwise precision/recall for near-duplicates (pairs
with the same original) and for story membership (pairs in the same story).

Scale: for each size N a subprocess bulk-loads N stored articles (rows with band keys, story
keys and signatures shaped like real ones, written article by article so every index has the
fill of a store grown that way) into a SQLite file. Then, ``--runs`` times, a fresh process
on a fresh copy of that file times a window of real articles from a synthetic generator (with
planted copies and same-event articles) through fingerprint + lookup + insert: half one
transaction per article, half 50 per transaction. The table shows the median run; peak
memory is the timed process's maximum RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if "--scale-one" in sys.argv and "--numpy" not in sys.argv:
    # The timed process runs as a default install does: without numpy (the bench extra
    # brings it for datasketch), so neither its fast path nor its memory is counted.
    sys.modules["numpy"] = None  # type: ignore[assignment]

from aggregator.dedup.fingerprint import (  # noqa: E402
    DEFAULT_SETTINGS,
    DedupSettings,
)
from aggregator.dedup.stories import (  # noqa: E402
    features_of,
)
from aggregator.dedup.urls import canonical_url  # noqa: E402
from aggregator.models import Attribution  # noqa: E402
from aggregator.store.db import configure_connection  # noqa: E402
from aggregator.store.dedup import STORY_CACHE_SIZE, Deduplicator  # noqa: E402

FIXTURES = ROOT / "fixtures" / "dedup" / "articles.jsonl"

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY, canonical_url TEXT NOT NULL UNIQUE, source TEXT, title TEXT,
    published TEXT, fetched TEXT, content_hash TEXT, signature BLOB, duplicate_of INTEGER,
    similarity REAL, story_id INTEGER);
CREATE TABLE IF NOT EXISTS url_aliases (url TEXT PRIMARY KEY, article_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stories (
    id INTEGER PRIMARY KEY, title TEXT, first_seen TEXT, first_source TEXT,
    first_article INTEGER, articles INTEGER, sources INTEGER, updated TEXT);
CREATE TABLE IF NOT EXISTS dedup_bands (band_key INTEGER NOT NULL, article_id INTEGER NOT NULL,
    PRIMARY KEY (band_key, article_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS story_keys (
    key TEXT NOT NULL, story_id INTEGER NOT NULL, seen TEXT NOT NULL,
    PRIMARY KEY (story_id, key)) WITHOUT ROWID;
"""
INDEXES = """
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles (content_hash);
CREATE INDEX IF NOT EXISTS articles_story ON articles (story_id);
CREATE INDEX IF NOT EXISTS story_keys_key_seen ON story_keys (key, seen);
"""


def iso(dt: datetime) -> str:
    # == dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), without strftime's cost
    return dt.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Incoming:
    url: str
    source: str
    title: str
    text: str
    published: datetime
    attributions: tuple[Attribution, ...] = ()


@dataclass(frozen=True)
class Stored:
    article_id: int
    duplicate_of: int | None
    similarity: float | None
    story_id: int
    new_row: bool  # False: the URL was already stored (an alias)


class DedupIndex:
    """The reference wiring of aggregator.dedup into SQLite (what the store should do).

    ``add`` runs, per article: canonical URL -> alias lookup; features (pure); exact hash
    lookup; band-key lookup -> signatures -> ``find_duplicate``; story: the duplicate's story,
    else candidate stories by ``story_keys`` inside the time window -> ``assign_story``; then
    one transaction writing the band keys, the story row and its keys (``record``) and then
    the article row with the dedup columns ``record`` settled.
    """

    def __init__(self, conn: sqlite3.Connection, settings: DedupSettings = DEFAULT_SETTINGS,
                 *, max_candidate_stories: int = 4, max_story_articles: int = 6,
                 story_cache: int = STORY_CACHE_SIZE) -> None:
        conn.isolation_level = None  # explicit BEGIN/COMMIT in batch()
        self.conn = conn
        self.settings = settings
        self.max_candidate_stories = max_candidate_stories
        self.max_story_articles = max_story_articles
        conn.executescript(SCHEMA)
        conn.executescript(INDEXES)
        self._depth = 0
        self.dedup = Deduplicator(conn, settings, iso=iso, story_cache=story_cache)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around several ``add`` calls (each ``add`` alone is one)."""
        if self._depth == 0:
            self.conn.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("ROLLBACK")
                self.dedup.forget()
            raise
        self._depth -= 1
        if self._depth == 0:
            self.conn.execute("COMMIT")

    def add(self, item: Incoming) -> Stored:
        conn = self.conn
        settings = self.settings
        canon = canonical_url(item.url)
        row = conn.execute(
            "SELECT a.id, a.duplicate_of, a.similarity, a.story_id FROM url_aliases u "
            "JOIN articles a ON a.id = u.article_id WHERE u.url IN (?, ?)", (item.url, canon),
        ).fetchone()
        if row is not None:  # already stored under another form of this URL
            with self.batch():
                conn.execute("INSERT OR IGNORE INTO url_aliases VALUES (?, ?)", (item.url, row[0]))
            return Stored(row[0], row[1], row[2], row[3], False)
        feats = features_of(item.title, item.text, item.published, item.attributions,
                            url=canon, settings=settings)
        with self.batch():
            verdict = self.dedup.lookup(feats, item.published)
            aid = self.dedup.next_article_id()
            cols = self.dedup.record(verdict, article_id=aid, feats=feats, title=item.title,
                                     source=item.source, published=item.published)
            conn.execute(
                "INSERT INTO articles (id, canonical_url, source, title, published,"
                " content_hash, signature, duplicate_of, similarity, story_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (aid, canon, item.source, item.title, iso(item.published), cols.content_hash,
                 cols.signature, cols.duplicate_of, cols.similarity, cols.story_id))
            conn.executemany("INSERT OR IGNORE INTO url_aliases VALUES (?, ?)",
                             [(item.url, aid), (canon, aid)])
        return Stored(aid, cols.duplicate_of, cols.similarity, cols.story_id, True)


# -- quality ---------------------------------------------------------------------------------
def load_labelled(path: Path = FIXTURES) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return sorted(rows, key=lambda r: (r["published"], r["id"]))


def _incoming(row: dict) -> Incoming:
    return Incoming(
        url=row["url"], source=row["source"], title=row["title"], text=row["text"],
        published=datetime.fromisoformat(row["published"].replace("Z", "+00:00")),
        attributions=tuple(Attribution(kind=a["kind"], name=a["name"], url=a.get("url"))
                           for a in row.get("attributions", [])),
    )


def _pairs(groups: dict[str, object]) -> set[tuple[str, str]]:
    by: dict[object, list[str]] = defaultdict(list)
    for key, value in groups.items():
        by[value].append(key)
    return {tuple(sorted(p)) for members in by.values() for p in combinations(members, 2)}


def _pr(predicted: set, truth: set) -> tuple[float, float, int, int, int]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    return precision, recall, tp, len(predicted) - tp, len(truth) - tp


@dataclass(frozen=True)
class Quality:
    dup_precision: float
    dup_recall: float
    story_precision: float
    story_recall: float
    lines: tuple[str, ...]
    stories: dict[str, int]  # labelled id -> predicted story id
    roots: dict[str, int]  # labelled id -> predicted original's article id
    index: DedupIndex
    rows: list[dict]


def _truth(rows: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """Labelled id -> its original's id, and -> its story."""
    by_id = {r["id"]: r for r in rows}

    def root(rid: str) -> str:
        while by_id[rid]["duplicate_of"]:
            rid = by_id[rid]["duplicate_of"]
        return rid

    return {r["id"]: root(r["id"]) for r in rows}, {r["id"]: r["story"] for r in rows}


def run_quality(settings: DedupSettings = DEFAULT_SETTINGS, path: Path = FIXTURES) -> Quality:
    rows = load_labelled(path)
    index = DedupIndex(sqlite3.connect(":memory:"), settings)
    pred_root: dict[str, object] = {}
    pred_story: dict[str, object] = {}
    results: dict[str, Stored] = {}
    for row in rows:
        stored = index.add(_incoming(row))
        results[row["id"]] = stored
        pred_root[row["id"]] = stored.duplicate_of or stored.article_id
        pred_story[row["id"]] = stored.story_id

    true_root, true_story = _truth(rows)
    dp, dr, dtp, dfp, dfn = _pr(_pairs(pred_root), _pairs(true_root))
    sp, sr, stp, sfp, sfn = _pr(_pairs(pred_story), _pairs(true_story))
    lines = [
        f"labelled set: {len(rows)} articles, {len(set(true_story.values()))} stories, "
        f"{sum(1 for r in rows if r['duplicate_of'])} copies",
        "",
        f"{'measure':<16}{'precision':>10}{'recall':>8}{'TP':>6}{'FP':>6}{'FN':>6}"
        f"{'target':>18}",
        f"{'near-duplicate':<16}{dp:>10.3f}{dr:>8.3f}{dtp:>6}{dfp:>6}{dfn:>6}"
        f"{'P>=0.98 R>=0.95':>18}",
        f"{'story':<16}{sp:>10.3f}{sr:>8.3f}{stp:>6}{sfp:>6}{sfn:>6}{'P>=0.95 R>=0.90':>18}",
        "",
        f"{'kind':<22}{'copies':>7}{'found':>7}{'min sim':>9}",
    ]
    kinds: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["duplicate_of"]:
            kinds[r["kind"]].append(r["id"])
    for kind in sorted(kinds):
        ids = kinds[kind]
        found = [i for i in ids if pred_root[i] == pred_root[true_root[i]]]
        sims = [results[i].similarity for i in found if results[i].similarity is not None]
        low = f"{min(sims):.2f}" if sims else "url"
        lines.append(f"{kind:<22}{len(ids):>7}{len(found):>7}{low:>9}")
    predicted_stories = len(set(pred_story.values()))
    lines.append("")
    labelled = len(set(true_story.values()))
    lines.append(f"stories predicted: {predicted_stories} (labelled {labelled})")
    for a, b in sorted(_pairs(pred_story) - _pairs(true_story)):
        lines.append(f"  wrongly merged: {a} + {b}")
    split = defaultdict(set)
    for rid, label in true_story.items():
        split[label].add(pred_story[rid])
    for label, sids in sorted(split.items()):
        if len(sids) > 1:
            parts = defaultdict(list)
            for rid in true_story:
                if true_story[rid] == label:
                    parts[pred_story[rid]].append(rid)
            lines.append(f"  split story {label}: {list(parts.values())}")
    for a, b in sorted(_pairs(pred_root) - _pairs(true_root)):
        lines.append(f"  wrong duplicate: {a} ~ {b}")
    for a, b in sorted(_pairs(true_root) - _pairs(pred_root)):
        lines.append(f"  missed duplicate: {a} ~ {b}")
    return Quality(dp, dr, sp, sr, tuple(lines), dict(pred_story),  # type: ignore[arg-type]
                   dict(pred_root), index, rows)  # type: ignore[arg-type]


# -- synthetic articles ------------------------------------------------------------------------
_SYL = ["ka", "lo", "mi", "ne", "ra", "to", "vel", "san", "dor", "fen", "gra", "hol", "ist",
        "jun", "kor", "lem", "mar", "nol", "pra", "quen", "ros", "sti", "tur", "ulm", "var",
        "wen", "xal", "yor", "zet", "bri", "cal", "del"]


class Synth:
    """Deterministic synthetic camera-news: events (brand, model, date) covered by several
    outlets in their own words, plus planted copies (exact, syndicated, trimmed)."""

    def __init__(self, seed: int = 7, brands: int = 400, vocab: int = 20000) -> None:
        rnd = random.Random(seed)
        self.rnd = rnd
        words: set[str] = set()
        while len(words) < vocab:
            words.add("".join(rnd.choice(_SYL) for _ in range(rnd.randint(1, 4))))
        self.words = sorted(words)
        # Zipf-like weights: a few very common words, a long tail.
        self.cum = []
        total = 0.0
        for rank in range(1, len(self.words) + 1):
            total += 1.0 / rank
            self.cum.append(total)
        self.brands = [" ".join(w.capitalize() for w in rnd.sample(self.words[500:], 2))
                       for _ in range(brands)]
        self.people = [" ".join(w.capitalize() for w in rnd.sample(self.words[500:], 2))
                       for _ in range(brands * 3)]
        self.sources = [f"Outlet {i}" for i in range(60)]

    def sentence(self, n: int) -> str:
        ws = self.rnd.choices(self.words, cum_weights=self.cum, k=n)
        return " ".join(ws).capitalize() + "."

    def event(self, number: int, when: datetime) -> dict:
        rnd = self.rnd
        brand_i = rnd.randrange(len(self.brands))
        brand = self.brands[brand_i]
        code = "".join(c for c in brand.split()[0][:2].upper()) + str(rnd.randint(1, 99))
        if rnd.random() < 0.3:
            code += rnd.choice(["", " II", " III", "S", "R"]).replace(" ", "")
        return {"n": number, "brand": brand, "model": code, "when": when,
                "person": self.people[brand_i * 3 + rnd.randrange(3)],
                "topic": [self.words[rnd.randrange(200, 5000)] for _ in range(3)]}

    def article(self, ev: dict, outlet: int) -> Incoming:
        rnd = self.rnd
        paras = []
        for p in range(rnd.randint(3, 5)):
            sents = [self.sentence(rnd.randint(8, 18)) for _ in range(rnd.randint(2, 4))]
            if p == 0:
                sents.insert(0, f"{ev['brand']} has announced the {ev['model']} "
                                f"{' '.join(ev['topic'])}.")
            if p == 1:
                sents.append(f"The {ev['model']} was presented by {ev['person']} of "
                             f"{ev['brand']}.")
            paras.append(" ".join(sents))
        when = ev["when"] + timedelta(hours=rnd.uniform(0, 72))
        title = (f"{ev['brand']} {ev['model']}: {' '.join(ev['topic'])} "
                 f"{self.words[rnd.randrange(100, 3000)]}")
        return Incoming(f"https://outlet{outlet}.example/news/{ev['n']}-{outlet}-{rnd.random():.8f}",
                        self.sources[outlet], title, "\n\n".join(paras), when)

    def copy(self, art: Incoming, outlet: int) -> Incoming:
        rnd = self.rnd
        paras = art.text.split("\n\n")
        kind = rnd.choice(["exact", "syndicated", "trimmed", "spun"])
        if kind == "spun":  # one word in eight replaced
            words = art.text.split(" ")
            for i in range(0, len(words), 8):
                words[i] = self.words[rnd.randrange(1000, 5000)]
            paras = " ".join(words).split("\n\n")
        elif kind == "syndicated":
            paras = [*paras, f"This story first appeared on {art.source}."]
        elif kind == "trimmed" and len(paras) > 3:
            paras = paras[1:] if rnd.random() < 0.5 else paras[:-1]
        return Incoming(f"https://outlet{outlet}.example/copy/{rnd.random():.10f}",
                        self.sources[outlet], art.title, "\n\n".join(paras),
                        art.published + timedelta(hours=rnd.uniform(1, 12)))

    def stream(self, count: int, start: datetime, per_day: float) -> Iterator[Incoming]:
        """``count`` articles: events at ``per_day`` articles a day, about 3 originals per
        event and 15% planted copies."""
        rnd = self.rnd
        made = 0
        recent: list[Incoming] = []
        number = 0
        when = start
        while made < count:
            number += 1
            ev = self.event(number, when)
            for _ in range(rnd.randint(1, 5)):
                if made >= count:
                    break
                art = self.article(ev, rnd.randrange(len(self.sources)))
                recent.append(art)
                made += 1
                yield art
                if rnd.random() < 0.15 and made < count:
                    made += 1
                    yield self.copy(rnd.choice(recent[-50:]), rnd.randrange(len(self.sources)))
            when += timedelta(days=3.0 / per_day)
            recent = recent[-200:]


# -- scale -----------------------------------------------------------------------------------
def _bulk_rows(synth: Synth, n: int, start: datetime, per_day: float
               ) -> Iterator[tuple[tuple, list[tuple]]]:
    """Article rows (signature, hash and band keys are filled in by SQL) and story-key rows
    shaped like stored ones, without computing real fingerprints (fast). URLs spread over
    outlets and paths as real ones do, so their index takes them in no particular order."""
    rnd = random.Random(11)
    story = 0
    aid = 0
    when = start
    while aid < n:
        story += 1
        ev = synth.event(story, when)
        first = iso(when)
        keys = [f"m:{ev['model'].replace(' ', '').upper()}", f"e:{ev['brand'].lower()}",
                f"e:{ev['person'].lower()}", f"p:https://bulk.example/press/{story}"]
        members = rnd.randint(1, 6)
        title = f"{ev['brand']} {ev['model']} {' '.join(ev['topic'])}"
        for m in range(members):
            aid += 1
            if aid > n:
                break
            outlet = rnd.randrange(60)
            url = f"https://outlet{outlet}.example/news/{rnd.getrandbits(48):012x}-{aid}"
            yield ((aid, url, f"Outlet {outlet}", title, first, story),
                   [(k, story, first) for k in keys] if m == 0 else [])
        when += timedelta(days=members / per_day)


#: Page cache of the loading process only (the timed process runs with the store's own).
LOAD_CACHE_KIB = 6_000_000


def bulk_load(conn: sqlite3.Connection, n: int, start: datetime, per_day: float,
              settings: DedupSettings) -> datetime:
    """Fill a fresh file with ``n`` stored articles; returns the last one's time.

    Rows go in article by article with every index in place, as the store writes them, so
    each index has the fill of one grown by random inserts (about 70%), not the 100% of an
    index built in key order, where every later insert would split a page. A page cache
    large enough for the whole file keeps this quick."""
    conn.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(SCHEMA)
    conn.executescript(INDEXES)
    synth = Synth(seed=3)
    arts: list[tuple] = []
    keys: list[tuple] = []
    stories: list[tuple] = []
    sig_bytes = 4 * (settings.num_perm + 1)
    # One random band key per band and article, as real keys of distinct texts would be.
    bands = " UNION ALL ".join(["SELECT 1"] * settings.bands)

    def flush() -> None:
        if not arts:
            return
        conn.executemany(
            "INSERT INTO articles (id, canonical_url, source, title, published, story_id,"
            f" content_hash, signature) VALUES (?,?,?,?,?,?, hex(randomblob(16)),"
            f" randomblob({sig_bytes}))", arts)
        conn.execute("INSERT OR IGNORE INTO dedup_bands SELECT random(), a.id FROM articles a,"
                     f" ({bands}) WHERE a.id BETWEEN ? AND ?", (arts[0][0], arts[-1][0]))
        conn.execute("INSERT INTO url_aliases SELECT canonical_url, id FROM articles"
                     " WHERE id BETWEEN ? AND ?", (arts[0][0], arts[-1][0]))
        conn.executemany("INSERT OR IGNORE INTO story_keys VALUES (?,?,?)", keys)
        conn.executemany("INSERT INTO stories VALUES (?,?,?,?,?,?,?,?)", stories)
        arts.clear()
        keys.clear()
        stories.clear()

    conn.execute("BEGIN")
    for article, krows in _bulk_rows(synth, n, start, per_day):
        arts.append(article)
        if krows:
            keys.extend(krows)
            stories.append((article[5], article[3], article[4], article[2], article[0], 1, 1,
                            article[4]))
        if len(arts) >= 2000:
            flush()
    flush()
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    last = conn.execute("SELECT max(published) FROM articles").fetchone()[0]
    return datetime.fromisoformat(last.replace("Z", "+00:00")) if last else start


def _rss_mb() -> float:
    """Peak RSS of this process: VmHWM, which starts anew at exec (ru_maxrss would keep the
    parent's peak from before the exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


PER_DAY = 900.0  # about a thousand articles a day across all sources
START = datetime(2024, 1, 1, tzinfo=UTC)


def load_one(n: int, path: Path, settings: DedupSettings = DEFAULT_SETTINGS) -> dict:
    """Bulk-load ``n`` stored articles into ``path`` (its own process: its large page cache
    is not counted in the timed process's memory)."""
    conn = sqlite3.connect(path, isolation_level=None)
    t0 = time.perf_counter()
    last = bulk_load(conn, n, START, PER_DAY, settings)
    conn.close()
    return {"load_s": time.perf_counter() - t0, "last": last.isoformat()}


def scale_one(n: int, window: int, path: Path, last: datetime,
              settings: DedupSettings = DEFAULT_SETTINGS, *, mmap_mb: int = 0) -> dict:
    """Time a window of synthetic articles into the loaded file at ``path``."""
    conn = sqlite3.connect(path)
    configure_connection(conn)  # the store's own connection settings
    if mmap_mb:
        conn.execute(f"PRAGMA mmap_size={int(mmap_mb) << 20}")
    index = DedupIndex(conn, settings)
    synth = Synth(seed=5)
    items = list(synth.stream(window, last - timedelta(days=3), PER_DAY))
    # Warm-up: the first few hundred to fill caches, not timed.
    planted = sum(1 for item in items[len(items) // 10:] if "/copy/" in item.url)
    warm = len(items) // 10
    for item in items[:warm]:
        index.add(item)
    half = warm + (len(items) - warm) // 2
    t1 = time.perf_counter()
    c1 = time.process_time()
    dups = 0
    for item in items[warm:half]:  # one transaction per article, as the crawl stores
        if index.add(item).duplicate_of is not None:
            dups += 1
    elapsed = time.perf_counter() - t1
    cpu = time.process_time() - c1
    t2 = time.perf_counter()
    c2 = time.process_time()
    for start_at in range(half, len(items), 50):  # 50 articles per transaction
        with index.batch():
            for item in items[start_at:start_at + 50]:
                if index.add(item).duplicate_of is not None:
                    dups += 1
    elapsed_b = time.perf_counter() - t2
    cpu_b = time.process_time() - c2
    timed = half - warm
    timed_b = len(items) - half
    rss_end = _current_rss_mb()
    stored = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    bands = conn.execute("SELECT COUNT(*) FROM dedup_bands").fetchone()[0]
    db_mb = os.path.getsize(path) / 1e6
    conn.close()
    return {"n": n, "stored": stored, "bands": bands, "timed": timed + timed_b,
            "per_s": timed / elapsed, "cpu_per_s": timed / cpu, "cpu_ms": 1000 * cpu / timed,
            "batch_per_s": timed_b / elapsed_b, "batch_cpu_per_s": timed_b / cpu_b,
            "dups": dups, "planted": planted, "peak_rss_mb": _rss_mb(),
            "rss_end_mb": rss_end, "db_mb": db_mb}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_scale(sizes: Iterable[int], window: int, mmap_mb: int = 0, runs: int = 1
              ) -> list[str]:
    lines = ["art/s = timed articles / CPU seconds of the process (one core); wall = elapsed.",
             "tx/art: one transaction per article; tx/50: 50 articles per transaction.",
             f"runs per size: {runs}; rates are the median run's, RSS the largest "
             "(the timed process only: the load runs in a process of its own).",
             f"{'stored':>9}{'timed':>6}{'tx/art cpu':>11}{'min-max':>11}{'wall':>6}{'ms cpu':>7}"
             f"{'tx/50 cpu':>10}{'wall':>6}{'dups/planted':>13}{'peak RSS':>9}{'end RSS':>8}"
             f"{'DB MB':>7}{'band rows':>11}{'load s':>7}"]
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            loaded = _child("--load", str(n), "--db", str(path))
            master = Path(tmp) / "loaded.db"
            os.replace(path, master)
            results = []
            for _ in range(runs):  # each run on a fresh copy of the loaded file
                shutil.copyfile(master, path)
                os.sync()  # no write-back of the copy during the timed run
                results.append(_child("--scale-one", str(n), "--db", str(path),
                                      "--last", loaded["last"], "--window", str(window),
                                      "--mmap", str(mmap_mb)))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        r = sorted(results, key=lambda x: x["cpu_per_s"])[len(results) // 2]
        batch = statistics.median(x["batch_cpu_per_s"] for x in results)
        batch_wall = statistics.median(x["batch_per_s"] for x in results)
        dp = f"{r['dups']}/{r['planted']}"
        spread = "{:.0f}-{:.0f}".format(*(f(x["cpu_per_s"] for x in results) for f in (min, max)))
        lines.append(f"{r['n']:>9}{r['timed']:>6}{r['cpu_per_s']:>11.0f}{spread:>11}"
                     f"{r['per_s']:>6.0f}"
                     f"{r['cpu_ms']:>7.2f}{batch:>10.0f}{batch_wall:>6.0f}"
                     f"{dp:>13}{max(x['peak_rss_mb'] for x in results):>9.0f}"
                     f"{r['rss_end_mb']:>8.0f}{r['db_mb']:>7.0f}{r['bands']:>11}"
                     f"{loaded['load_s']:>7.0f}")
        print(lines[-1], flush=True)
    return lines


# -- peers ---------------------------------------------------------------------------------
# What readers and libraries do today, on the same inputs: a feed reader drops an item whose
# GUID/link or exact title it has seen (there is no GUID in the labelled set: the link is
# what feeds put there); datasketch's MinHash + MinHashLSH (in memory) flags a copy when a
# stored text's estimated Jaccard passes its threshold. Neither groups events into stories:
# their story pairs are their duplicate groups.
DATASKETCH_PERM = 128  # datasketch's default


def _shingles(text: str) -> list[bytes]:
    """Word 3-shingles as datasketch takes them, from our own tokens (same words for all)."""
    from aggregator.dedup.fingerprint import tokens

    words = tokens(text)
    if len(words) < 3:
        return [" ".join(words).encode()]
    return [f"{a} {b} {c}".encode() for a, b, c in zip(words, words[1:], words[2:],
                                                         strict=False)]


def _datasketch() -> object | None:
    try:
        import datasketch
    except ImportError:
        return None
    return datasketch


def _minhash(ds: object, text: str) -> object:
    m = ds.MinHash(num_perm=DATASKETCH_PERM)  # type: ignore[attr-defined]
    m.update_batch(_shingles(text))
    return m


def run_peer_quality(path: Path = FIXTURES) -> list[str]:
    rows = load_labelled(path)
    true_root, true_story = _truth(rows)
    truth_dup, truth_story = _pairs(true_root), _pairs(true_story)
    results: list[tuple[str, dict[str, object]]] = []
    seen: dict[str, str] = {}
    reader: dict[str, object] = {}
    for row in rows:  # feed reader: the first item with this link or this exact title
        first = seen.get("u:" + row["url"]) or seen.get("t:" + row["title"]) or row["id"]
        reader[row["id"]] = first
        seen.setdefault("u:" + row["url"], first)
        seen.setdefault("t:" + row["title"], first)
    results.append(("feed reader (GUID/link or exact title)", reader))
    ds = _datasketch()
    if ds is not None:
        for threshold in (0.5, 0.3):
            lsh = ds.MinHashLSH(threshold=threshold, num_perm=DATASKETCH_PERM)
            hashes: dict[str, object] = {}
            pred: dict[str, object] = {}
            order = {r["id"]: i for i, r in enumerate(rows)}  # published order
            for row in rows:
                m = _minhash(ds, row["text"])
                found = [k for k in lsh.query(m) if m.jaccard(hashes[k]) >= threshold]
                pred[row["id"]] = min((pred[k] for k in found), key=order.__getitem__,
                                      default=row["id"])
                hashes[row["id"]] = m
                lsh.insert(row["id"], m)
            results.append((f"datasketch MinHashLSH {DATASKETCH_PERM} perm, J >= {threshold}",
                            pred))
    lines = [f"{'tool':<44}{'dup P':>7}{'dup R':>7}{'story P':>9}{'story R':>9}"]
    ours = run_quality(path=path)
    lines.append(f"{'ours (aggregator.dedup)':<44}{ours.dup_precision:>7.3f}"
                 f"{ours.dup_recall:>7.3f}{ours.story_precision:>9.3f}"
                 f"{ours.story_recall:>9.3f}")
    for name, pred in results:
        dp, dr, *_ = _pr(_pairs(pred), truth_dup)
        sp, sr, *_ = _pr(_pairs(pred), truth_story)
        lines.append(f"{name:<44}{dp:>7.3f}{dr:>7.3f}{sp:>9.3f}{sr:>9.3f}")
    if ds is None:
        lines.append("datasketch not installed: .venv/bin/pip install -e '.[bench]'")
    return lines


def peer_scale_one(n: int, window: int) -> dict:
    """datasketch at ``n`` stored: MinHashLSH filled with ``n`` random signatures (as our
    bulk load stores random band keys), then the same synthetic window as ours timed through
    MinHash + query + insert, in memory."""
    import numpy as np

    ds = _datasketch()
    assert ds is not None
    rng = np.random.default_rng(3)
    lsh = ds.MinHashLSH(threshold=0.5, num_perm=DATASKETCH_PERM)
    scheme = ds.MinHash(num_perm=DATASKETCH_PERM).scheme  # the one its MinHash uses
    t0 = time.perf_counter()
    for i in range(n):
        values = rng.integers(0, (1 << 32) - 1, DATASKETCH_PERM, dtype=np.uint64)
        lsh.insert(f"stored-{i}", ds.LeanMinHash(seed=1, hashvalues=values, scheme=scheme),
                   check_duplication=False)
    load_s = time.perf_counter() - t0
    items = list(Synth(seed=5).stream(window, START, PER_DAY))
    warm = len(items) // 10
    dups = 0
    for number, item in enumerate(items):
        if number == warm:
            c1, t1 = time.process_time(), time.perf_counter()
        m = _minhash(ds, item.text)
        if lsh.query(m):
            dups += number >= warm
        lsh.insert(item.url, m, check_duplication=False)
    cpu = time.process_time() - c1
    elapsed = time.perf_counter() - t1
    timed = len(items) - warm
    return {"n": n, "cpu_per_s": timed / cpu, "per_s": timed / elapsed, "dups": dups,
            "peak_rss_mb": _rss_mb(), "load_s": load_s}


def run_peer_scale(sizes: Iterable[int], window: int) -> list[str]:
    lines = [f"{'stored':>9}{'art/s cpu':>10}{'wall':>7}{'flagged':>8}{'peak RSS':>9}"
             f"{'load s':>7}"]
    print(lines[0], flush=True)
    for n in sizes:
        r = _child("--peer-one", str(n), "--window", str(window))
        lines.append(f"{n:>9}{r['cpu_per_s']:>10.0f}{r['per_s']:>7.0f}{r['dups']:>8}"
                     f"{r['peak_rss_mb']:>9.0f}{r['load_s']:>7.0f}")
        print(lines[-1], flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="quality only")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--window", type=int, default=3000, help="timed articles per size")
    parser.add_argument("--mmap", type=int, default=0, metavar="MB",
                        help="PRAGMA mmap_size for the timed connection (default 0: off, as"
                             " the store opens it)")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs per size, each on a fresh copy (median shown)")
    parser.add_argument("--peer-sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="stored sizes for datasketch's in-memory index (default 10k"
                             " 100k; it holds every signature in memory)")
    parser.add_argument("--numpy", action="store_true",
                        help="let our fingerprint use numpy when installed (the bench extra"
                             " brings it; the default install has none, so off by default)")
    parser.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--peer-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--last", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load is not None:
        print(json.dumps(load_one(args.load, args.db)))
        return 0
    if args.peer_one is not None:
        print(json.dumps(peer_scale_one(args.peer_one, args.window)))
        return 0
    if args.scale_one is not None:
        last = datetime.fromisoformat(args.last)
        print(json.dumps(scale_one(args.scale_one, args.window, args.db, last,
                                   mmap_mb=args.mmap)))
        return 0
    print("== quality: fixtures/dedup/articles.jsonl ==")
    quality = run_quality()
    print("\n".join(quality.lines))
    print()
    print("== peers on the same labelled set (pairwise) ==")
    print("\n".join(run_peer_quality()))
    if args.quality:
        return 0
    print()
    print(f"== scale: fingerprint + lookup + insert, one core, window of {args.window} ==")
    print("\n".join(run_scale([], args.window, runs=args.runs)), flush=True)
    run_scale(args.sizes, args.window, args.mmap, args.runs)
    if _datasketch() is not None and args.peer_sizes:
        print()
        print(f"== peer: datasketch MinHash({DATASKETCH_PERM}) + MinHashLSH(0.5), in memory,"
              " same synthetic window, MinHash + query + insert ==")
        run_peer_scale(args.peer_sizes, args.window)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
