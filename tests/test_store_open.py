"""Opening the store: several processes creating the same new database at once."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from aggregator.store.db import Store


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
