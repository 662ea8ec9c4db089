"""The database opened by Datasette (a dev dependency) through its Python API, with
full-text search on articles working via the metadata from ``datasette_metadata``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from outputs_data import make_store

from aggregator.export import datasette_metadata

datasette_app = pytest.importorskip("datasette.app")


def _run(coro):
    return asyncio.run(coro)


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    store = make_store(tmp_path)
    # a stored name with an accent: the index holds folded text, Datasette must still find it
    from outputs_data import article, save

    save(store, article(30, source="wire", title="Fotoblog Müller tests the K-9 in Köln"),
         "wire")
    path = Path(store.path)
    store.close()
    return path


async def _query(db_path: Path, path: str) -> tuple[int, object]:
    ds = datasette_app.Datasette([str(db_path)], metadata=datasette_metadata(db_path.stem),
                                 immutables=[])
    await ds.invoke_startup()
    resp = await ds.client.get(path)
    return resp.status_code, resp.json() if resp.status_code == 200 else resp.text


def test_datasette_reads_the_tables(db_path: Path) -> None:
    status, rows = _run(_query(db_path, f"/{db_path.stem}/articles.json?_shape=array"
                                        "&_sort=id"))
    assert status == 200
    assert [r["id"] for r in rows][:3] == [1, 2, 3]
    status, rows = _run(_query(db_path, f"/{db_path.stem}/stories.json?_shape=array"))
    assert status == 200 and rows[0]["articles"] == 3


def test_datasette_full_text_search(db_path: Path) -> None:
    name = db_path.stem
    status, rows = _run(_query(db_path, f"/{name}/articles.json?_search=roundup&_shape=array"))
    assert status == 200, rows
    assert [r["title"] for r in rows] == ["Lens roundup for spring"]
    # accents folded in the index; Datasette's query goes through the same tokenizer
    status, rows = _run(_query(db_path, f"/{name}/articles.json?_search=koln&_shape=array"))
    assert status == 200 and [r["id"] for r in rows] == [7]
    status, rows = _run(_query(db_path, f"/{name}/articles.json?_search=K%C3%B6ln&_shape=array"))
    assert status == 200 and [r["id"] for r in rows] == [7]
    # the canned, ranked query
    status, rows = _run(_query(db_path, f"/{name}/search.json?q=sensor&_shape=array"))
    assert status == 200 and rows
    assert all("snippet" in r for r in rows)
    assert rows[0]["title"].startswith(("Kestrel announces", "Article"))
