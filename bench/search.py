"""Search benchmark: load N realistic articles, then time queries of different shapes.

    .venv/bin/python bench/search.py            # 1,000,000 articles (cached in /tmp)
    .venv/bin/python bench/search.py --n 50000  # a quick run
    .venv/bin/python bench/search.py --fresh    # rebuild the cached database

The database is made by the real schema (``aggregator.store.Store.open`` runs the
migrations), then filled in batches of 20,000 articles per transaction with plain sqlite3
by a bulk path: the articles table's secondary indexes are dropped and made again from the
schema's SQL at the end, no WAL and no fsync during the load, FTS5 automerge/crisismerge
raised for the load and removed after (same schema and data as the store makes; the store
has no bulk path: ``Store.save_article`` is one transaction per article and is timed
separately on a small sample). FTS rows carry ``index_text()`` of title and body,
rowid = article id, as the store writes them. Text generation and ``index_text`` run in a
2-process pool; the load rate is end to end (generate + fold + insert + FTS index + commit,
wall clock), then the FTS ``optimize`` merge and ``ANALYZE`` are timed on their own.

Queries run through the same code the store uses: ``parse_query`` -> ``probe_sql`` ->
``search_sql`` -> fetch the 20 article rows (title, source, published, url, text).
Warm: the same process after one warm-up pass, 5 timed runs of each query.
Cold: a new process and connection (empty SQLite page cache), each query once; with
``--drop-caches`` the OS page cache is dropped first (root only, affects the whole machine).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.search.normalize import index_text  # noqa: E402
from aggregator.search.query import parse_query  # noqa: E402
from aggregator.search.sql import (  # noqa: E402
    SearchFilters,
    probe_sql,
    search_sql,
    window_is_exact,
)

GEN_VERSION = 4
PARAGRAPHS = 60_000
RARE_NAMES = 400_000
SEED = 20261122
JOB = 5_000  # articles generated per pool job (its seed: the generated data depends on it)
BATCH = 20_000  # articles per load transaction
# FTS5 settings during the bulk load (fewer, larger merges; 'optimize' merges all at the
# end); removed afterwards, so the store's defaults (automerge 4, crisismerge 16) apply.
FTS_BULK = {"automerge": 16, "crisismerge": 64}
START = datetime(2019, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)

FUNCTION_WORDS = [
    "the", "of", "and", "to", "a", "in", "for", "is", "on", "that", "with", "as", "it", "at", "by",
    "from", "its", "be", "has", "are", "was", "this", "an", "will", "which", "have", "new", "more",
    "also", "but", "not", "or", "their", "can", "said", "about", "than", "been", "one", "up",
    "after", "they", "we", "all", "two", "first", "out", "into", "other", "over", "year", "last",
    "time", "we'd", "just", "only", "so", "when", "while", "like", "some", "most", "what", "there",
    "would", "its", "our", "you", "could", "now", "which", "may", "these", "those", "such",
    "because", "through", "where", "how", "many", "both", "between", "during", "under", "before",
    "three", "each", "well", "much", "any", "very", "still", "even", "back", "against", "since",
    "then", "if", "them", "who", "us", "his", "her", "he", "she", "do", "does", "make", "made",
    "says", "according", "no", "yes", "own", "same", "per",
]
DOMAIN_WORDS = [
    "camera", "cameras", "lens", "lenses", "sensor", "mirrorless", "autofocus", "firmware",
    "update", "video", "photo", "photos", "photography", "photographer", "photographers", "image",
    "images", "stabilisation", "stabilization", "full-frame", "APS-C", "medium", "format", "zoom",
    "prime", "aperture", "shutter", "exposure", "ISO", "noise", "dynamic", "range", "raw", "JPEG",
    "codec", "bitrate", "rolling", "stacked", "backside-illuminated", "megapixel", "megapixels",
    "price", "launch", "announced", "announcement", "release", "rumor", "rumors", "leak", "leaked",
    "patent", "patents", "review", "hands-on", "preview", "sample", "samples", "gallery", "tripod",
    "gimbal", "flash", "strobe", "battery", "grip", "viewfinder", "EVF", "OLED", "LCD", "screen",
    "articulating", "tilting", "body", "weather-sealed", "mount", "adapter", "telephoto",
    "wide-angle", "macro", "portrait", "landscape", "street", "wildlife", "sports", "astro",
    "drone", "action", "smartphone", "computational", "bokeh", "sharpness", "contrast",
    "distortion", "vignetting", "chromatic", "aberration", "coating", "elements", "groups",
    "diaphragm", "blades", "focus", "tracking", "subject", "detection", "eye", "animal", "bird",
    "vehicle", "AI", "cinema", "cine", "log", "LUT", "HDR", "HLG", "ProRes", "H.265", "card",
    "slot", "CFexpress", "SD", "USB-C", "Wi-Fi", "Bluetooth", "app", "software", "Lightroom",
    "Photoshop", "editing", "workflow", "studio", "lighting", "LED", "monitor", "recorder",
    "microphone", "audio", "timecode", "manufacturer", "market", "sales", "shipments", "CIPA",
    "industry", "supply", "tariff", "factory", "production", "Japan", "China", "Germany", "Europe",
    "USA", "retail", "dealers", "discount", "deal", "deals", "bundle", "kit", "competition",
    "award", "winner", "contest", "exhibition", "festival", "museum", "archive", "film", "analog",
    "instant", "Polaroid", "rangefinder", "compact", "point-and-shoot", "vlogging", "creators",
    "YouTube", "Instagram", "TikTok", "social", "media", "press", "release", "statement",
    "spokesperson", "CEO", "executive", "interview", "report", "reports", "according", "source",
    "sources", "confirmed", "official",
]
BRANDS = [
    "Nikon", "Canon", "Sony", "Fujifilm", "Panasonic", "Lumix", "Leica", "OM", "System", "Olympus",
    "Sigma", "Tamron", "Hasselblad", "Ricoh", "Pentax", "DJI", "GoPro", "Insta360", "Blackmagic",
    "Zeiss", "Voigtländer", "Viltrox", "Samyang", "Laowa", "Kodak", "Ilford", "Godox", "Profoto",
    "SmallRig", "Peak", "Design", "Lowepro", "Tokina", "Kestrel", "Köln", "Düsseldorf", "Wetzlar",
    "Tokyo", "Osaka",
]
MODELS = [
    "Z6III", "Z6 III", "Z6-III", "Z8", "Z9", "Zf", "Z50II", "EOS R5", "EOS R5 Mark II",
    "EOS R6 Mark II", "EOS R1", "R7", "A7 IV", "A7R V", "A1 II", "A9 III", "ZV-E10 II", "X-T5",
    "X100VI", "X100 V", "GFX100 II", "X-H2S", "S5IIX", "GH7", "G9 II", "M11", "M11 Monochrom",
    "Q3", "SL3", "OM-1 Mark II", "OM-3", "K-3 Mark III", "GR III", "GR IIIx", "Pocket 6K", "35mm",
    "50mm", "85mm", "24-70mm", "70-200mm", "100-400mm", "14mm", "35 mm", "50 mm", "f/1.4", "f/1.8",
    "f/2.8", "f/4", "4K", "8K", "6K", "120fps", "60p", "L² Technology", "L2 Technology",
    "Mavic 4 Pro", "Osmo Pocket 3", "Hero13", "X3", "Ace Pro 2", "FE 24-50mm F2.8 G",
    "RF 28-70mm F2.8", "Z 28-400mm", "XF 16-55mm F2.8",
]


FIXED_RANKS = {
    # rank -> share of articles containing the word (~340 words each): 60 ~ 30%, 250 ~ 9%,
    # 2000 ~ 1.3%
    "camera": 60, "lens": 90, "photo": 120, "sensor": 150, "video": 180, "Nikon": 250,
    "Canon": 270, "Sony": 290, "mirrorless": 400, "Fujifilm": 500, "autofocus": 700,
    "firmware": 900, "Panasonic": 1100, "rumor": 1500, "Leica": 2000, "smartphone": 2500,
}
FIXED_RANKS = dict(sorted(FIXED_RANKS.items(), key=lambda kv: kv[1]))


def _synthetic_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    onsets = [
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "cr", "dr", "fl", "gr", "kr", "pl", "pr", "st", "tr", "sh", "ch", "th",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "ie"]
    codas = ["", "", "n", "r", "s", "t", "l", "m", "x", "nd", "st", "rk"]
    out: list[str] = []
    while len(out) < count:
        syl = rng.choice((2, 2, 3, 3, 3, 4))
        w = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syl))
        w += rng.choice(codas)
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def build_vocab(size: int = 60_000) -> list[str]:
    """Words by rank (rank 0 most frequent): function words, then domain terms, brands and
    model names spread through the head and middle, then made-up words in the tail."""
    rng = random.Random(SEED)
    head = list(dict.fromkeys(FUNCTION_WORDS))
    taken = {w.lower() for w in head}
    middle = [w for w in DOMAIN_WORDS + BRANDS + MODELS if w.lower() not in taken]
    taken.update(w.lower() for w in middle)
    tail = _synthetic_words(rng, size - len(head) - len(middle), taken)
    vocab = head + tail
    # A few beat words at fixed, realistic ranks; the other domain words, brands and
    # models spread over ranks ~10..6000 of the rest.
    fixed = FIXED_RANKS
    for w, rank in fixed.items():
        vocab.insert(rank, w)
    middle = [w for w in middle if w not in fixed]
    for i, w in enumerate(middle):
        low, high = (200, 8000) if w in DOMAIN_WORDS else (800, 20000)
        pos = int(math.exp(rng.uniform(math.log(low), math.log(high)))) + i % 7
        vocab.insert(min(pos, len(vocab)), w)
    return vocab


def _cum_weights(n: int, offset: float = 2.7, s: float = 1.05) -> list[float]:
    total = 0.0
    out = []
    for r in range(n):
        total += 1.0 / (r + offset) ** s
        out.append(total)
    return out


SOURCES_A = [
    "shutter", "lens", "light", "photo", "camera", "pixel", "focus", "frame", "optic", "aperture",
    "mirror", "bright", "silver", "grain", "daily", "studio",
]
SOURCES_B = [
    "notes", "news", "wire", "world", "review", "rumors", "journal", "blog", "magazine", "post",
    "times", "press", "digest", "report", "insider", "daily", "hub", "lab", "weekly",
]
SOURCES = [f"{a}-{b}" for a in SOURCES_A for b in SOURCES_B][:300]

_STATE: dict[str, object] = {}


def _init_worker() -> None:
    vocab = build_vocab()
    _STATE["vocab"] = vocab
    _STATE["cum"] = _cum_weights(len(vocab))
    _STATE["title_vocab"] = vocab[len(set(FUNCTION_WORDS)):]
    _STATE["title_cum"] = _cum_weights(len(vocab) - len(set(FUNCTION_WORDS)), offset=8.0)
    _STATE["source_cum"] = _cum_weights(len(SOURCES), offset=5.0, s=0.9)
    _STATE["paragraphs"] = _paragraphs(vocab, _STATE["cum"])  # type: ignore[arg-type]
    rng = random.Random(SEED + 7)
    _STATE["rare"] = _synthetic_words(rng, RARE_NAMES, {w.lower() for w in vocab})


def _paragraphs(vocab: list[str], cum: list[float]) -> list[tuple[str, int]]:
    """A pool of Zipfian paragraphs (2-6 sentences of 8-28 words); article bodies are drawn
    from it, which keeps generating a million articles cheap (the load rate is measured on
    index_text + SQLite, not on making text up)."""
    rng = random.Random(SEED + 1)
    out = []
    for _ in range(PARAGRAPHS):
        sents = []
        size = 0
        for _ in range(rng.randint(2, 6)):
            words = rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 28))
            size += len(words)
            s = " ".join(words)
            sents.append(s[:1].upper() + s[1:] + ".")
        out.append((" ".join(sents), size))
    return out


def make_batch(job: tuple[int, int, int]) -> tuple[list[tuple], float]:
    """Articles start..start+count-1 (ids from 1), with their FTS text. Deterministic."""
    start, count, n_total = job
    if "vocab" not in _STATE:
        _init_worker()
    tvocab: list[str] = _STATE["title_vocab"]  # type: ignore[assignment]
    tcum: list[float] = _STATE["title_cum"]  # type: ignore[assignment]
    scum: list[float] = _STATE["source_cum"]  # type: ignore[assignment]
    pool: list[tuple[str, int]] = _STATE["paragraphs"]  # type: ignore[assignment]
    rare: list[str] = _STATE["rare"]  # type: ignore[assignment]
    rng = random.Random(SEED * 1_000_003 + start)
    span = (END - START).total_seconds()
    rows = []
    fold_time = 0.0
    for aid in range(start, start + count):
        source = rng.choices(SOURCES, cum_weights=scum)[0]
        # Crawl order: fetched grows with the id; most stories are published hours before
        # they are fetched, 3% are backfill published up to three years earlier.
        fetched = START + timedelta(seconds=span * aid / n_total)
        if rng.random() < 0.03:
            delay = timedelta(days=rng.uniform(1, 3 * 365))
        else:
            delay = timedelta(hours=min(24 * 14, math.exp(rng.gauss(1.0, 1.2))))
        fetched = fetched.replace(microsecond=0)
        pub = max(START - timedelta(days=3 * 365), fetched - delay).replace(microsecond=0)
        words = rng.choices(tvocab, cum_weights=tcum, k=rng.randint(5, 13))
        title = " ".join(words)
        title = title[:1].upper() + title[1:]
        n_words = max(60, min(2500, int(math.exp(rng.gauss(5.7, 0.5)))))
        paras = []
        got = 0
        while got < n_words:
            para, size = pool[rng.randrange(len(pool))]
            paras.append(para)
            got += size
        # One rare name per article (a 400,000-name list drawn uniformly: ~2-3 articles each
        # at 1M), as bylines, places and people make in real news.
        paras.append(f"Reported by {rare[rng.randrange(len(rare))].capitalize()}.")
        text = "\n\n".join(paras)
        slug = "-".join(w.lower() for w in words[:6] if w.isalnum())
        url = f"https://{source}.example/{pub:%Y/%m}/{slug}-{aid}"
        t0 = time.process_time()
        fts_title, fts_body = index_text(title), index_text(text)
        fold_time += time.process_time() - t0
        story = aid if rng.random() < 0.7 else max(1, aid - rng.randint(1, 50))
        rows.append((
            aid, url, url, source, title, pub.isoformat(),
            fetched.isoformat(),
            "en", text, story, fts_title, fts_body,
        ))
    return rows, fold_time


def _schema_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX sql) of the articles table's indexes in the real schema."""
    import tempfile

    from aggregator.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "schema.db")
        rows = store.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'articles'"
            " AND sql IS NOT NULL ORDER BY name").fetchall()
        store.close()
    return [(name, sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
             .replace("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX IF NOT EXISTS", 1))
            for name, sql in rows]


def db_path_for(n: int) -> Path:
    return Path(f"/tmp/aggregator-search-bench-n{n}-v{GEN_VERSION}.db")


def load(n: int, path: Path, *, resume: bool = False, stop_after: int = 0,
         optimize: bool = True) -> dict:
    """Fill ``path`` with articles 1..n. ``resume`` continues a load that was stopped (each
    batch is one transaction); ``stop_after`` > 0 ends the load after that many articles
    and treats what is there as the data set (a partial run on a busy machine)."""
    from aggregator.store import Store

    if not resume:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store.open(path)  # the real schema and indexes
    conn = store.conn
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB page cache for the load
    # Bulk path: the articles table's secondary indexes are dropped for the load and made
    # again from the schema's own SQL afterwards (one sort each instead of a random B-tree
    # insert per article per index); no WAL copy, no fsync; FTS5 flushes and merges less
    # often. The schema and data at the end are the same as the store makes.
    schema_indexes = _schema_indexes()
    for name, _ in schema_indexes:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = OFF")
    for key, value in FTS_BULK.items():
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES (?, ?)", (key, value))
    first = (conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0) + 1
    last = min(n, first - 1 + stop_after) if stop_after else n
    jobs = [(s, min(JOB, last - s + 1), n) for s in range(first, last + 1, JOB)]
    insert_time = 0.0
    insert_cpu = 0.0
    fold_cpu = 0.0
    t_start = time.perf_counter()
    done = 0
    with Pool(2, initializer=_init_worker) as pool:
        for rows, fold_s in pool.imap(make_batch, jobs):
            fold_cpu += fold_s
            t0 = time.perf_counter()
            c0 = time.process_time()
            if not conn.in_transaction:
                conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO articles (id, url, canonical_url, source, title, published, "
                "fetched, language, text, story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [r[:10] for r in rows],
            )
            conn.executemany(
                "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
                [(r[0], r[10], r[11]) for r in rows],
            )
            done += len(rows)
            if done % BATCH == 0 or done == last - first + 1:
                conn.execute("COMMIT")
            insert_time += time.perf_counter() - t0
            insert_cpu += time.process_time() - c0
            if done % 50_000 == 0 or done == last - first + 1:
                el = time.perf_counter() - t_start
                print(f"  loaded {done:>9,} in {el:6.0f} s ({done / el:,.0f}/s)",
                      file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    # Back to the store's FTS5 configuration (its defaults: no rows in the config table).
    for key in FTS_BULK:
        conn.execute("DELETE FROM articles_fts_config WHERE k = ?", (key,))
    for _, sql in schema_indexes:
        conn.execute(sql)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")
    index_s = time.perf_counter() - t0
    load_wall = time.perf_counter() - t_start
    loaded = max(done, 1)
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    t0 = time.perf_counter()
    if optimize:
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
    optimize_s = time.perf_counter() - t0 if optimize else float("nan")
    t0 = time.perf_counter()
    conn.execute("ANALYZE")
    analyze_s = time.perf_counter() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = path.stat().st_size
    stats = {
        "n": total, "loaded_this_run": done, "load_wall_s": load_wall,
        "load_rate": loaded / load_wall,
        "insert_s": insert_time, "insert_rate": loaded / max(insert_time, 1e-9),
        "fold_cpu_s": fold_cpu, "insert_cpu_s": insert_cpu,
        "load_rate_cpu": loaded / max(insert_cpu + fold_cpu, 1e-9),
        "load_avg": os.getloadavg()[0], "index_s": index_s, "batch": BATCH,
        "optimize_s": optimize_s, "analyze_s": analyze_s,
        "size_bytes": size, "bytes_per_article": size / total,
        "store_save_article_rate": store_path_rate(),
    }
    Path(str(path) + ".json").write_text(json.dumps(stats))
    return stats


def store_path_rate(count: int = 2_000) -> float:
    """Articles/s through Store.save_article (one transaction each), on a fresh file."""
    from aggregator.models import Article
    from aggregator.store import Store

    path = Path("/tmp/aggregator-search-bench-savepath.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    rows, _ = make_batch((1, count, count))
    store = Store.open(path)
    fetched = datetime.now(UTC)
    t0 = time.perf_counter()
    for r in rows:
        art = Article(url=r[1], title=r[4], text=r[8], published=datetime.fromisoformat(r[5]),
                      language="en")
        store.save_article(art, source=r[3], canonical_url=r[2], aliases=(), fetched=fetched)
    rate = count / (time.perf_counter() - t0)
    store.close()
    return rate


# -- queries ------------------------------------------------------------------------------
def queries(last: date) -> list[tuple[str, str, SearchFilters]]:
    """The timed queries; ``last`` = the newest article's day (relative date filters)."""
    vocab = build_vocab()
    rare = [vocab[i] for i in (30_000, 45_000, 59_000)]
    mid = [vocab[i] for i in (2_000, 5_000)]
    q: list[tuple[str, str, SearchFilters]] = []
    rel = SearchFilters()
    for w in ("camera", "new", "lens"):
        q.append(("common word", w, rel))
    for w in rare:
        q.append(("rare word", w, rel))
    for w in mid:
        q.append(("mid word", w, rel))
    names = _synthetic_words(random.Random(SEED + 7), RARE_NAMES, {w.lower() for w in vocab})
    for w in (names[123], names[234_567]):
        q.append(("rare name", w.capitalize(), rel))
    q += [
        ("two words", "sony autofocus", rel),
        ("two words", "firmware video", rel),
        ("brand+model", "Nikon Z6III", rel),
        ("model spelling", "Z6-III", rel),
        ("model spelling", "Z6 III", rel),
        ("phrase", '"L² Technology"', rel),
        ("phrase", '"eos r5 mark ii"', rel),
        ("phrase", '"the camera"', rel),
        ("prefix", "leic*", rel),
        ("prefix", "photo*", rel),
        ("prefix", f"{rare[0][:4]}*", rel),
        ("OR/NOT", "(canon OR nikon) -rumor", rel),
        ("OR/NOT", "mirrorless NOT smartphone", rel),
        ("accents", "Köln", rel),
        ("units", "35 mm", rel),
    ]
    src = SOURCES[0]
    small_src = SOURCES[250]
    q += [
        ("source filter", "camera", SearchFilters(sources=(src,))),
        ("source filter", "autofocus", SearchFilters(sources=(small_src,))),
        ("source filter", rare[1], SearchFilters(sources=(src,))),
        ("since 30d", "camera", SearchFilters(since=f"{last - timedelta(days=30)}")),
        ("since 30d", "firmware", SearchFilters(since=f"{last - timedelta(days=30)}")),
        ("date range", "lens", SearchFilters(since="2021-03-01", until="2021-04-01")),
        ("date range", rare[0], SearchFilters(since="2020-01-01", until="2022-01-01")),
        ("newest", "camera", SearchFilters(sort="newest")),
        ("newest", "leica", SearchFilters(sort="newest")),
        ("newest", rare[2], SearchFilters(sort="newest")),
        ("newest", '"L² Technology"', SearchFilters(sort="newest")),
        ("oldest", "firmware", SearchFilters(sort="oldest")),
        ("newest+source", "camera", SearchFilters(sort="newest", sources=(src,))),
        ("newest+source", "lens", SearchFilters(sort="newest", sources=(small_src,))),
        ("newest+since", "sensor", SearchFilters(sort="newest",
                                                 since=f"{last - timedelta(days=90)}")),
    ]
    return q


def run_one(conn: sqlite3.Connection, text: str, filters: SearchFilters) -> tuple[int, bool]:
    parsed = parse_query(text)
    sql, params = probe_sql(parsed)
    count = conn.execute(sql, params).fetchone()[0]
    many = count >= params["cap"]
    sql, params = search_sql(parsed, filters, many=many)
    rows = conn.execute(sql, params).fetchall()
    if not window_is_exact(rows, filters.limit):
        sql, params = search_sql(parsed, filters, many=many, exact=True)
        rows = conn.execute(sql, params).fetchall()
    ids = [r[0] for r in rows]
    if ids:
        marks = ",".join("?" * len(ids))
        conn.execute(f"SELECT id, title, source, published, url, text FROM articles"
                     f" WHERE id IN ({marks})", ids).fetchall()
    return len(ids), many


def open_ro(path: Path) -> sqlite3.Connection:
    from aggregator.store.db import CACHE_KIB

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the store's own page cache
    return conn


def time_queries(path: Path, reps: int, warmup: bool) -> list[dict]:
    conn = open_ro(path)
    out = []
    newest = conn.execute("SELECT max(published) FROM articles").fetchone()[0]
    qs = queries(datetime.fromisoformat(newest).date())
    if warmup:
        for _, text, f in qs:
            run_one(conn, text, f)
    for shape, text, f in qs:
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            hits, many = run_one(conn, text, f)
            times.append((time.perf_counter() - t0) * 1000)
        out.append({"shape": shape, "query": text, "filters": _describe(f), "hits": hits,
                    "many": many, "ms": times})
    conn.close()
    return out


def _describe(f: SearchFilters) -> str:
    parts = []
    if f.sources:
        parts.append("source=" + ",".join(f.sources))
    if f.since:
        parts.append(f"since={f.since}")
    if f.until:
        parts.append(f"until={f.until}")
    if f.sort != "relevance":
        parts.append(f"sort={f.sort}")
    return " ".join(parts)


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached database")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--drop-caches", action="store_true",
                    help="before the cold run, drop the OS page cache (root; affects the "
                         "whole machine)")
    ap.add_argument("--resume", action="store_true",
                    help="continue loading a stopped run's database")
    ap.add_argument("--stop-after", type=int, default=0, metavar="K",
                    help="load at most K articles in this run, then measure what is there")
    ap.add_argument("--no-optimize", action="store_true",
                    help="skip the FTS 'optimize' merge after the load (as a live store is)")
    ap.add_argument("--cold-child", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_child:
        print(json.dumps(time_queries(Path(args.cold_child), 1, warmup=False)))
        return
    path = db_path_for(args.n)
    meta = Path(str(path) + ".json")
    if args.fresh or not meta.exists() or not path.exists() or args.resume:
        print(f"generating {args.n:,} articles into {path}", file=sys.stderr)
        stats = load(args.n, path, resume=args.resume and path.exists(),
                     stop_after=args.stop_after, optimize=not args.no_optimize)
    else:
        stats = json.loads(meta.read_text())
        print(f"using cached {path}", file=sys.stderr)
    dropped = drop_caches() if args.drop_caches else False
    cold = json.loads(subprocess.run(
        [sys.executable, __file__, "--cold-child", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout)
    warm = time_queries(path, args.reps, warmup=True)
    report(stats, warm, cold, dropped)


def report(stats: dict, warm: list[dict], cold: list[dict], dropped: bool) -> None:
    n = stats["n"]
    print(f"\n## Load ({n:,} articles, sqlite {sqlite3.sqlite_version})\n")
    print("| measure | value |\n|---|---|")
    print(f"| load, end to end (generate + index_text + insert + FTS, 2 procs) | "
          f"{stats['load_rate']:,.0f} articles/s ({stats['load_wall_s']:.0f} s) |")
    print(f"| insert + FTS index only (main process, batches of {stats.get('batch', 5000):,})"
          f" | {stats['insert_rate']:,.0f} articles/s ({stats['insert_s']:.0f} s) |")
    if "index_s" in stats:
        print(f"| articles indexes made after the load (in the load figure) | "
              f"{stats['index_s']:.0f} s |")
    print(f"| index_text CPU | {stats['fold_cpu_s'] / n * 1e6:,.0f} µs/article |")
    print(f"| insert + FTS CPU (main process) | {stats['insert_cpu_s'] / n * 1e6:,.0f} "
          "µs/article |")
    print(f"| load rate by CPU time, one core (index_text + insert + FTS) | "
          f"{stats['load_rate_cpu']:,.0f} articles/s |")
    print(f"| machine load average at the end of the load (2 cores, shared) | "
          f"{stats['load_avg']:.1f} |")
    print(f"| FTS optimize (merge segments), ANALYZE | {stats['optimize_s']:.0f} s, "
          f"{stats['analyze_s']:.0f} s |")
    print(f"| Store.save_article (1 transaction/article, 2,000) | "
          f"{stats['store_save_article_rate']:,.0f} articles/s |")
    print(f"| database size | {stats['size_bytes'] / 1e9:.2f} GB, "
          f"{stats['bytes_per_article']:,.0f} bytes/article |")
    print("\n## Queries (top 20, bm25(articles_fts, 10.0, 1.0); ms)\n")
    print("| shape | query | filters | hits | many | warm p50 | cold |")
    print("|---|---|---|---|---|---|---|")
    for w, c in zip(warm, cold, strict=True):
        print(f"| {w['shape']} | `{w['query']}` | {w['filters']} | {w['hits']} | "
              f"{'y' if w['many'] else ''} | {statistics.median(w['ms']):.1f} | "
              f"{c['ms'][0]:.1f} |")
    all_warm = [t for w in warm for t in w["ms"]]
    all_cold = [c["ms"][0] for c in cold]
    print(f"\n{len(warm)} queries; warm = {len(all_warm)} timed runs after a warm-up pass; "
          f"cold = new process + connection, each query once, page cache "
          f"{'dropped first' if dropped else 'not dropped (the file may be in the OS cache)'}.\n")
    print("| | p50 | p95 | p99 | max |\n|---|---|---|---|---|")
    for name, vals in (("warm", all_warm), ("cold", all_cold)):
        print(f"| {name} | {pct(vals, 50):.1f} | {pct(vals, 95):.1f} | {pct(vals, 99):.1f} | "
              f"{max(vals):.1f} |")


if __name__ == "__main__":
    main()
