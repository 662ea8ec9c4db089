"""Golden tests: every fixture article page against its expected file (fixtures/expected).

The page is read from disk, ``{{BASE}}`` filled in as the server would, and run through the
same ``extract_article`` the crawl uses.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.extract import extract_article

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "site"
EXPECTED = ROOT / "fixtures" / "expected"
BASE = "http://127.0.0.1:8765"
HEADERS = json.loads((SITE / "_headers.json").read_text(encoding="utf-8"))

#: Body text must overlap the reference this much (4-word shingle F1, the dev-set metric).
MIN_BODY_F1 = 0.9


def cases() -> list[dict]:
    out = []
    for file in sorted(EXPECTED.rglob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8").replace("{{BASE}}", BASE))
        out.append(data)
    return out


def page_of(case: dict) -> tuple[bytes, str | None]:
    raw = (SITE / case["path"].lstrip("/")).read_bytes().replace(b"{{BASE}}", BASE.encode())
    content_type = HEADERS.get(case["path"], {}).get("Content-Type", "")
    m = re.search(r"charset=([\w-]+)", content_type)
    return raw, (m.group(1) if m else None)


def shingles(text: str) -> Counter:
    words = re.findall(r"\w+", text.lower())
    return Counter(tuple(words[i:i + 4]) for i in range(max(len(words) - 3, 0)))


def body_f1(predicted: str, reference: str) -> float:
    p, r = shingles(predicted), shingles(reference)
    tp = sum((p & r).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(p.values()), tp / sum(r.values())
    return 2 * precision * recall / (precision + recall)


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c["path"] for c in CASES])
def test_page_matches_expected(case: dict) -> None:
    content, charset = page_of(case)
    article = extract_article(content, BASE + case["path"], header_charset=charset)
    assert article.title == case["title"]
    assert list(article.authors) == case["authors"]
    if case.get("published"):
        assert article.published == datetime.fromisoformat(case["published"])
    if case.get("canonical_url"):
        assert article.canonical_url == case["canonical_url"]
    if case.get("language"):
        assert (article.language or "").split("-")[0] == case["language"].split("-")[0]
    f1 = body_f1(article.text, case["text"])
    assert f1 >= MIN_BODY_F1, f"body F1 {f1:.3f}"
    for clutter in case.get("must_not_contain", []):
        assert clutter not in article.text, f"clutter kept: {clutter!r}"
    expected_authors = [a["name"] for a in case["attributions"] if a["kind"] == "author"]
    found_authors = [a.name for a in article.attributions if a.kind == "author"]
    assert found_authors == expected_authors
