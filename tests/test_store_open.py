"""Opening the store: several processes creating the same new database at once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from aggregator.store.db import Store


def _old_database(path: Path, version: int, sql: str, rows: list[tuple]) -> None:
    """A database file made by the migrations up to ``version`` (as an older program left
    it), with ``rows`` inserted by ``sql``."""
    import sqlite_utils

    from aggregator.store.schema import MIGRATIONS

    db = sqlite_utils.Database(path)
    for step in range(1, version + 1):
        MIGRATIONS[step](db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),))
    db.conn.executemany(sql, rows)
    db.conn.commit()
    db.close()


def _open_and_read(path: str, barrier: mp.synchronize.Barrier) -> str:
    barrier.wait()
    try:
        with Store.open(path) as store:
            store.sources()
    except Exception as exc:  # reported to the parent, which asserts on it
        return repr(exc)
    return "ok"


def test_processes_creating_one_database_at_once_all_succeed(tmp_path: Path) -> None:
    # PRAGMA journal_mode = WAL ignores the busy timeout while another connection creates
    # the file; without the retry in Store.open some of these fail with "database is locked".
    ctx = mp.get_context("spawn")
    workers = 4
    with ctx.Manager() as manager, ctx.Pool(workers) as pool:
        for trial in range(8):
            path = str(tmp_path / f"new{trial}.db")
            barrier = manager.Barrier(workers)
            results = pool.starmap(_open_and_read, [(path, barrier)] * workers)
            assert results == ["ok"] * workers, (trial, results)


def test_version_3_band_keys_move_to_a_without_rowid_table(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    rows = [(-5, 1), (7, 1), (7, 2), (2**63 - 1, 3), (7, 2)]  # one pair stored twice
    _old_database(path, 3, "INSERT INTO dedup_bands (band_key, article_id) VALUES (?, ?)", rows)
    with Store.open(path) as store:
        conn = store.conn
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'dedup_bands'"
                           ).fetchone()[0]
        kept = conn.execute("SELECT band_key, article_id FROM dedup_bands"
                            " ORDER BY band_key, article_id").fetchall()
        indexes = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"
                               " AND tbl_name = 'dedup_bands'").fetchall()
        conn.execute("INSERT OR IGNORE INTO dedup_bands VALUES (7, 1)")  # already there
        count = conn.execute("SELECT count(*) FROM dedup_bands").fetchone()[0]
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT DISTINCT article_id FROM dedup_bands"
            " WHERE band_key IN (7, -5)"))
    assert "WITHOUT ROWID" in sql.upper()
    assert kept == sorted(set(rows))
    assert [name for (name,) in indexes if not name.startswith("sqlite_autoindex")] == []
    assert count == 4
    assert "PRIMARY KEY" in plan or "COVERING" in plan


def test_a_new_database_gets_the_without_rowid_band_table(tmp_path: Path) -> None:
    with Store.open(tmp_path / "new.db") as store:
        sql = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'dedup_bands'"
                                 ).fetchone()[0]
        version = store.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    from aggregator.store.schema import SCHEMA_VERSION

    assert "WITHOUT ROWID" in sql.upper() and version == str(SCHEMA_VERSION)


def test_version_4_story_keys_move_to_a_without_rowid_table(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    rows = [("e:kestrel optics", 1, "2024-05-01T00:00:00Z"), ("m:Z6III", 1, "2024-05-01T00:00:00Z"),
            ("e:kestrel optics", 2, "2025-05-01T00:00:00Z")]
    _old_database(path, 4, "INSERT INTO story_keys (key, story_id, seen) VALUES (?, ?, ?)", rows)
    with Store.open(path) as store:
        conn = store.conn
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'story_keys'"
                           ).fetchone()[0]
        kept = conn.execute("SELECT key, story_id, seen FROM story_keys"
                            " ORDER BY story_id, key").fetchall()
        conn.execute("INSERT OR IGNORE INTO story_keys VALUES ('m:Z6III', 1, 'x')")
        count = conn.execute("SELECT count(*) FROM story_keys").fetchone()[0]
        plan = " ".join(r[-1] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT story_id, key FROM story_keys WHERE key = ?"
            " AND seen BETWEEN ? AND ? ORDER BY seen DESC LIMIT 5", ("e:kestrel optics", "a", "z")))
    assert "WITHOUT ROWID" in sql.upper()
    assert kept == sorted(rows, key=lambda r: (r[1], r[0]))
    assert count == 3
    assert "COVERING INDEX idx_story_keys_key_seen" in plan


def test_version_5_attribution_names_are_indexed_on_upgrade(tmp_path: Path) -> None:
    """v6 builds the folded name index for the attributions already stored, and the name
    filters then find them by phrase (case and accents folded, whole words only)."""
    from aggregator.search.sql import name_phrase

    path = tmp_path / "v5.db"
    _old_database(path, 5, "INSERT INTO attributions (article_id, kind, name) VALUES (?, ?, ?)",
                  [(1, "quote", "Céline Marchetti"), (2, "source", "Leica Camera AG"),
                   (3, "author", "Leicas Fan")])
    with Store.open(path) as store:
        def found(name: str) -> list[int]:
            return [r[0] for r in store.conn.execute(
                "SELECT t.article_id FROM attribution_names n JOIN attributions t"
                " ON t.id = n.rowid WHERE attribution_names MATCH ? ORDER BY 1",
                (name_phrase(name),))]

        assert found("celine MARCHETTI") == [1]
        assert found("Leica") == [2]  # a word of the name, not "Leicas"
        assert found("camera ag") == [2] and found("ag camera") == []
    assert name_phrase("%") is None and name_phrase(' "x" ') == '"x"'
