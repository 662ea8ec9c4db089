"""Small pure helpers of the extractor: title suffixes, author names, dates, site-rule matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator.extract.authors import clean_authors, split_authors
from aggregator.extract.dates import date_from_url, parse_date, parse_date_zone
from aggregator.extract.metadata import clean_title
from aggregator.extract.rules import rule_matches
from aggregator.models import SiteRule


@pytest.mark.parametrize(("raw", "site", "h1", "want"), [
    ("Kestrel K9 review | Photo News", "Photo News", None, "Kestrel K9 review"),
    ("Photo News | Kestrel K9 review: the fastest yet", "Photo News", None,
     "Kestrel K9 review: the fastest yet"),
    ("Kestrel K9 review - Photo News", None, None, "Kestrel K9 review"),
    ("Kestrel K9 review — Lens & Light Magazine", "Lens & Light", None, "Kestrel K9 review"),
    ("Test der NX-70 « Fotoblog Müller", None, None, "Test der NX-70"),
    ("Kestrel K9 review: first look at the stacked sensor | Photo News", None,
     "Kestrel K9 review: first look at the stacked sensor",
     "Kestrel K9 review: first look at the stacked sensor"),
    ("Canon - Nikon merger rumours", None, None, "Canon - Nikon merger rumours"),
    ("Just a title", None, None, "Just a title"),
    ("How we designed the K9's AF - an async tracking engine", None, None,
     "How we designed the K9's AF - an async tracking engine"),
])
def test_title_suffix_stripping(raw, site, h1, want) -> None:
    assert clean_title(raw, site_name=site, h1=h1) == want


@pytest.mark.parametrize(("raw", "want"), [
    ("By Jane Doe", ["Jane Doe"]),
    ("By Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
    ("Jane Doe, Bob Li & Carl Ng", ["Jane Doe", "Bob Li", "Carl Ng"]),
    ("By JANE DOE | Staff Writer", ["Jane Doe"]),
    ("Jane Doe (@janedoe)", ["Jane Doe"]),
    ("By Jane Doe, Senior Editor", ["Jane Doe"]),
    ("Jane Doe Updated March 5, 2024", ["Jane Doe"]),
    ("Von Jürgen Müller und François Lemaître", ["Jürgen Müller", "François Lemaître"]),
    ("Max Mustermann, 31.05.2012", ["Max Mustermann"]),
    ("https://example.com/authors/jane", []),
    ("By", []),
    ("By GILLIAN MOHNEY March 11, 2015 3:46 PM", ["Gillian Mohney"]),
    ("By Nathan Willis March 25, 2015", ["Nathan Willis"]),
    ("Martin Untersinger (avec Damien Leloup et Morgane Tual)",
     ["Martin Untersinger", "Damien Leloup", "Morgane Tual"]),
    ("Tech Industry by Steven Musil", ["Steven Musil"]),
    ("Written by Rob Ewaschuk Edited by Betsy Beyer", ["Rob Ewaschuk"]),
    ("By Brenda Goodman, MA", ["Brenda Goodman"]),
    ("Mark Ma", ["Mark Ma"]),
])
def test_author_cleaning(raw, want) -> None:
    assert split_authors(raw) == want


def test_a_name_with_a_label_glued_on_gives_way_to_the_bare_name() -> None:
    assert clean_authors(["Ben Silverman Games Editor", "Ben Silverman"]) == ("Ben Silverman",)
    assert clean_authors(["Tech Insider Alex Perry", "Alex Perry"]) == ("Alex Perry",)


def test_site_name_is_not_an_author_and_names_are_unique() -> None:
    assert clean_authors(["Photo News", "Jane Doe", "jane doe"], site_name="Photo News") == (
        "Jane Doe",)


@pytest.mark.parametrize(("value", "want", "zoned"), [
    ("2024-03-05T09:30:00+01:00", datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=1))),
     True),
    ("2024-03-05T09:30:00Z", datetime(2024, 3, 5, 9, 30, tzinfo=UTC), True),
    ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC), False),
    ("20240305093000", datetime(2024, 3, 5, 9, 30, tzinfo=UTC), False),
    ("Tue, 05 Mar 2024 10:00:00 GMT", datetime(2024, 3, 5, 10, 0, tzinfo=UTC), True),
    ("March 5, 2024 9:30 am EST", datetime(2024, 3, 5, 9, 30,
                                            tzinfo=timezone(timedelta(hours=-5))), True),
    ("Jul 2, 2026 11:10 AM ET", datetime(2026, 7, 2, 11, 10,
                                          tzinfo=timezone(timedelta(hours=-4))), True),
    ("31. Mai 2012", datetime(2012, 5, 31, tzinfo=UTC), False),
    ("5 mars 2024", datetime(2024, 3, 5, tzinfo=UTC), False),
    ("05.03.2024, 14:05 Uhr", datetime(2024, 3, 5, 14, 5, tzinfo=UTC), False),
])
def test_date_parsing(value, want, zoned) -> None:
    assert parse_date_zone(value) == (want, zoned)


@pytest.mark.parametrize("value", ["", "tomorrow", "0000-99-99T99:99", "2024-13-45", "x" * 500])
def test_bad_dates_are_none(value) -> None:
    assert parse_date(value) is None


def test_date_from_url() -> None:
    assert date_from_url("https://x.com/2024/03/05/slug") == datetime(2024, 3, 5, tzinfo=UTC)
    assert date_from_url("https://x.com/news/20240305-slug") == datetime(2024, 3, 5, tzinfo=UTC)
    assert date_from_url("https://x.com/news/slug") is None


@pytest.mark.parametrize(("match", "url", "want"), [
    ("example.com", "https://example.com/a", True),
    ("example.com", "https://www.example.com/a", True),
    ("example.com", "https://news.example.com/a", True),
    ("example.com", "https://badexample.com/a", False),
    ("example.com/news", "https://example.com/news/a", True),
    ("example.com/news", "https://example.com/newsletter", False),
    ("example.com/news/", "https://example.com/news/a", True),
    ("127.0.0.1:8765/wire", "http://127.0.0.1:8765/wire/x.html", True),
    ("127.0.0.1/wire", "http://127.0.0.1:8765/wire/x.html", True),
    ("example.com", "not a url", False),
])
def test_rule_matching(match, url, want) -> None:
    assert rule_matches(SiteRule(match=match), url) is want
