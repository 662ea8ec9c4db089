"""Every fixture article page against its expected file (title, authors, published, text,
canonical URL, language, clutter left out), and the no-article pages of the fixture site."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.errors import NoArticle
from aggregator.extract import extract_article

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SITE = FIXTURES / "site"
BASE = "http://127.0.0.1:8765"
EXPECTED = sorted((FIXTURES / "expected").rglob("*.json"))


def _header_charset(path: str) -> str | None:
    headers_file = SITE / "_headers.json"
    if not headers_file.is_file():
        return None
    content_type = json.loads(headers_file.read_text("utf-8")).get(path, {}).get(
        "Content-Type", "")
    return content_type.split("charset=", 1)[1].strip() if "charset=" in content_type else None


def _page(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())


@pytest.mark.skipif(not EXPECTED, reason="fixtures/expected not written yet")
@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.stem)
def test_fixture_article(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text("utf-8"))
    path = expected["path"]
    article = extract_article(_page(path), BASE + path, header_charset=_header_charset(path))
    assert article.title == expected["title"]
    assert list(article.authors) == expected["authors"]
    published = expected.get("published")
    assert article.published == (datetime.fromisoformat(published) if published else None)
    assert article.canonical_url == expected["canonical_url"].replace("{{BASE}}", BASE)
    assert article.language == expected["language"]
    assert article.text == expected["text"]
    for clutter in expected.get("must_not_contain", []):
        assert clutter not in article.text
        assert clutter not in article.html


NO_ARTICLE = {
    "/special/index.html": "index page",
    "/special/page-not-found.html": "not found",
    "/special/video-only.html": "video",
    "/pressroom/press/index.html": "index page",
    "/camerablog/index.html": "index page",
    "/magazine/index.html": "index page",
}


@pytest.mark.parametrize("path", sorted(NO_ARTICLE))
def test_fixture_pages_without_article(path: str) -> None:
    if not (SITE / path.lstrip("/")).is_file():
        pytest.skip("fixture page not written yet")
    with pytest.raises(NoArticle, match=NO_ARTICLE[path]) as info:
        extract_article(_page(path), BASE + path)
    assert info.value.url == BASE + path


def test_fixture_pdf_is_no_article() -> None:
    pdf = SITE / "special" / "brochure.pdf"
    if not pdf.is_file():
        pytest.skip("fixture PDF not written yet")
    with pytest.raises(NoArticle):
        extract_article(pdf.read_bytes(), BASE + "/special/brochure.pdf")
