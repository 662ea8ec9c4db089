"""Crash safety: SIGKILL ``aggregator crawl`` (and ``run --once``) at random moments, then
check the database.

A real subprocess crawls the bundled fixture site (config/demo.toml with {base} filled in)
served with a few milliseconds of latency per request so kills land mid-crawl. After every
kill: ``PRAGMA integrity_check`` is ok and every article is whole (text, URL aliases, index
row, the same attributions as a clean crawl) with nothing left over (attributions, aliases or
index rows without an article). At the end a rerun completes and the database holds exactly
the articles of a clean crawl, each once.

Set KILL_SEED to replay a run; the seed is printed (pytest -s) and in every failure message.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from aggregator.fixture_server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "site"
DEMO_CONFIG = ROOT / "config" / "demo.toml"
KILLS = 20
LATENCY = 0.005  # seconds per request


class SlowFixtureServer(FixtureServer):
    """The fixture site with ``latency`` seconds added before every response."""

    def __init__(self, root: Path, latency: float) -> None:
        super().__init__(root)
        self.latency = latency

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler_class()
        latency = self.latency

        class Slow(base):  # type: ignore[valid-type, misc]
            def do_GET(self) -> None:  # noqa: N802
                time.sleep(latency)
                super().do_GET()

        return Slow


def write_config(base_url: str, path: Path) -> Path:
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace("{base}", base_url),
                    encoding="utf-8")
    return path


def command(db: Path, config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "aggregator", "--db", str(db), "--config", str(config), *args]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Subprocess environment running a snapshot of the package (the clean crawl and the
    killed ones must run the same code, even while the working tree is being edited)."""
    code = tmp_path_factory.mktemp("code")
    shutil.copytree(ROOT / "aggregator", code / "aggregator",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}


def has_schema(conn: sqlite3.Connection) -> bool:
    """Killed while creating the file: no tables yet (the schema is one transaction)."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    if "articles" not in names:
        assert not names & {"attributions", "url_aliases", "articles_fts"}, names
        return False
    return True


def articles(db: Path) -> dict[str, tuple[str, int]]:
    """canonical_url -> (URL of the page stored, number of attributions)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        if not has_schema(conn):
            return {}
        return {c: (u, n) for c, u, n in conn.execute(
            "SELECT a.canonical_url, a.url, (SELECT count(*) FROM attributions t"
            " WHERE t.article_id = a.id) FROM articles a")}
    finally:
        conn.close()


def alias_groups(db: Path) -> set[frozenset[str]]:
    """Each stored article as the set of URLs it is known under. An exact copy published on
    two pages is stored once, from whichever page came first; its group is the same."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        groups: dict[int, set[str]] = {}
        for url, art in conn.execute("SELECT url, article_id FROM url_aliases"):
            groups.setdefault(art, set()).add(url)
        return {frozenset(g) for g in groups.values()}
    finally:
        conn.close()


def check_whole(db: Path, clean: dict[str, tuple[str, int]], where: str,
                known_urls: frozenset[str] = frozenset()) -> int:
    """Assert the database is intact and every article whole. Returns the article count."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", where
        if not has_schema(conn):
            return 0
        rows = conn.execute("SELECT id, url, canonical_url, text FROM articles").fetchall()
        for art_id, url, canonical, text in rows:
            assert text and text.strip(), f"{where}: article {art_id} has no text"
            fts = conn.execute("SELECT rowid FROM articles_fts WHERE rowid = ?", (art_id,))
            assert fts.fetchone() is not None, f"{where}: article {art_id} has no index row"
            aliases = {r[0] for r in conn.execute(
                "SELECT url FROM url_aliases WHERE article_id = ?", (art_id,))}
            assert {url, canonical} <= aliases, f"{where}: article {art_id} lacks aliases"
            assert canonical in clean or canonical in known_urls, \
                f"{where}: unexpected article {canonical}"
        orphans = {
            "attributions": "SELECT count(*) FROM attributions WHERE article_id NOT IN"
                            " (SELECT id FROM articles)",
            "url_aliases": "SELECT count(*) FROM url_aliases WHERE article_id NOT IN"
                           " (SELECT id FROM articles)",
            "articles_fts": "SELECT count(*) FROM articles_fts WHERE rowid NOT IN"
                            " (SELECT id FROM articles)",
        }
        for table, sql in orphans.items():
            assert conn.execute(sql).fetchone()[0] == 0, f"{where}: orphan rows in {table}"
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
        assert total == distinct, f"{where}: duplicate articles"
    finally:
        conn.close()
    # attributions all present: as many as the clean crawl stored for the same page (a story
    # republished under the same canonical URL may be stored from either page, first wins)
    for canonical, (url, n) in articles(db).items():
        clean_url, clean_n = clean.get(canonical, (None, 0))
        if url == clean_url:
            assert n == clean_n, f"{where}: {canonical} has {n} attributions, not {clean_n}"
    return len(rows)


@pytest.fixture(scope="module")
def slow_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlowFixtureServer]:
    # a snapshot of the site, so the clean crawl and the killed ones see the same pages
    root = tmp_path_factory.mktemp("killsite") / "site"
    shutil.copytree(SITE, root)
    with SlowFixtureServer(root, LATENCY) as server:
        yield server


def wait_for_articles(db: Path, proc: subprocess.Popen, count: int) -> None:
    """Poll (as a concurrent reader) until ``count`` articles are stored or the crawl ends."""
    deadline = time.monotonic() + 60
    conn: sqlite3.Connection | None = None
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if conn is None and db.exists():
                conn = sqlite3.connect(db, timeout=30)
            if conn is not None:
                try:
                    if has_schema(conn) and conn.execute(
                            "SELECT count(*) FROM articles").fetchone()[0] >= count:
                        return
                except sqlite3.OperationalError as exc:  # "no such table" while creating
                    assert "locked" not in str(exc), exc
            time.sleep(0.005)
    finally:
        if conn is not None:
            conn.close()


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def test_sigkill_at_random_moments_never_corrupts(slow_site: SlowFixtureServer,
                                                  env: dict[str, str], tmp_path: Path) -> None:
    seed = int(os.environ.get("KILL_SEED", random.randrange(1_000_000)))
    print(f"\nkill test seed: {seed} (replay with KILL_SEED={seed})")
    rng = random.Random(seed)
    config = write_config(slow_site.base_url, tmp_path / "demo.toml")

    clean_db = tmp_path / "clean.db"
    started = time.perf_counter()
    done = subprocess.run(command(clean_db, config, "crawl"), env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    full = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    clean = articles(clean_db)
    assert len(clean) >= 20
    clean_groups = alias_groups(clean_db)
    known = frozenset(u for g in clean_groups for u in g)

    db = tmp_path / "killed.db"
    mid_crawl = 0
    for kill in range(KILLS):
        where = f"seed {seed}, kill {kill + 1}"
        if kill % 4 == 0 and kill < KILLS - 4:
            remove_db(db)  # a fresh start now and then, so kills keep landing on writes
        before = len(articles(db)) if db.exists() else 0
        # mostly `crawl`; every third time the daemon's one round (it also writes its
        # schedule and crawl_runs rows)
        args = ("run", "--once") if kill % 3 == 2 else ("crawl",)
        proc = subprocess.Popen(command(db, config, *args), env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Stored articles are skipped on the next run, so a run writes its first new article
        # soon after start-up: kills aim at the first few writes (or the start-up itself).
        if kill % 2:  # at a random time ...
            time.sleep(rng.uniform(0.1, full * 0.6))
        else:  # ... or a random moment after the n-th stored article
            wait_for_articles(db, proc, min(before + rng.randint(0, 4), len(clean) - 1))
            time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        after = check_whole(db, clean, where, known) if db.exists() else 0
        if proc.returncode == -signal.SIGKILL and before < after < len(clean):
            mid_crawl += 1
    print(f"{KILLS} kills, {mid_crawl} between two stored articles; clean crawl {full:.2f} s")
    assert mid_crawl >= 3, f"seed {seed}: kills did not land mid-crawl"

    rerun = subprocess.run(command(db, config, "crawl"), env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert check_whole(db, clean, f"seed {seed}, final rerun", known) == len(clean)
    assert alias_groups(db) == clean_groups
