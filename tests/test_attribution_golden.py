"""Golden attribution test for every labelled page: fixtures/attribution/*.json and the
fixture site's fixtures/expected/**.json, through the same extraction as the crawl.

Each page must give exactly its expected rows, matched as bench/attribution.py matches them
(kind and name; a quote by speaker and text; URLs where the label has one). The few known
misses are listed by page below: a change in any page's result — a regression, or a fix that
should then be recorded here — fails the test for that page.
"""

from __future__ import annotations

import bench_modules
import pytest

bench = bench_modules.load("attribution")

CASES = bench.load_cases(("attribution", "site"))
_MODE, RUN = bench.runner("extract")

#: page -> the rows it is known to miss ("fn") or add ("fp"), as (verdict, kind, name).
KNOWN: dict[str, set[tuple[str, str, str]]] = {
    # "a blog post announcing the project": the wording names no press release
    "holdout-mag-ricoh-film": {("fn", "press_release", "Ricoh")},
    # "a déclaré ... au journal Le Monde": the French "to the newspaper" is not read
    "wp-french-guillemets": {("fn", "source", "Le Monde")},
    # "Kestrel UK said in an emailed statement that “...”": a branch as the speaker
    "camerablog/2026/03/kestrel-k9-shortage-dealers.html": {("fn", "quote", "Kestrel UK")},
    # the French "Photo : Zoë Côté" credit (a space before the colon)
    "fotoblog/2026/09/fotomesse-aurel-lumen-85.html": {("fn", "credit", "Zoë Côté")},
    # in the republished copy, "an analyst ... told Lens & Light" is read as a cited source
    "wire/2026/03/kestrel-k9-announced-61mp-stacked-sensor.html": {
        ("fp", "source", "Lens & Light")},
}


def test_every_known_miss_names_a_labelled_page() -> None:
    assert len(CASES) >= 80
    assert set(KNOWN) <= {c.name for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_page_gives_its_expected_attributions(case) -> None:  # noqa: ANN001
    misses = set()
    for verdict, kind, row in bench.score_case(case.expected, RUN(case)):
        if verdict != "tp":
            name = row.name if hasattr(row, "name") else row.get("name")
            misses.add((verdict, kind, name))
    assert misses == KNOWN.get(case.name, set())
