"""Shared pytest fixtures: the fixture web site on loopback and its expected results.

Other areas add their own fixtures in their own test files; keep this one small.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.fixture_server import FixtureServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SITE_ROOT = FIXTURES / "site"
EXPECTED_ROOT = FIXTURES / "expected"


@pytest.fixture(scope="session")
def fixture_site() -> Iterator[FixtureServer]:
    """The bundled fixture site served on http://127.0.0.1:<free port> for the whole session.

    ``fixture_site.url("/camerablog/feed.xml")`` gives an absolute URL; ``fixture_site.hits``
    counts requests per path (call ``reset_hits()`` first if you assert on it).
    """
    with FixtureServer(SITE_ROOT) as server:
        yield server


def load_expected(base_url: str) -> dict[str, dict[str, Any]]:
    """Every ``fixtures/expected/**/*.json`` keyed by its ``path`` field (e.g.
    ``/magazine/2026/04/x.html``), with ``{{BASE}}`` replaced by ``base_url``."""
    pages: dict[str, dict[str, Any]] = {}
    for file in sorted(EXPECTED_ROOT.rglob("*.json")):
        raw = file.read_text(encoding="utf-8").replace("{{BASE}}", base_url)
        data = json.loads(raw)
        pages[data["path"]] = data
    return pages


@pytest.fixture(scope="session")
def expected_pages(fixture_site: FixtureServer) -> dict[str, dict[str, Any]]:
    """Expected results for every article page, keyed by URL path, ``{{BASE}}`` filled in."""
    return load_expected(fixture_site.base_url)
