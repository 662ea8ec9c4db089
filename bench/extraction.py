"""Body and metadata extraction, ours against trafilatura (and optionally readability-lxml).

    python bench/extraction.py --dataset ../shared/extraction-dev/readability [--limit N]
    python bench/extraction.py --dataset ../shared/extraction-dev/trafilatura [--readability]

Layouts: ``test-pages/<case>/{source.html,expected.html,expected-metadata.json}`` (readability
set; body metric: 4-token shingles, per-page P/R averaged) or ``evaldata.json`` with
``cache/``/``eval/`` (trafilatura set; snippet metric, micro P/R). All tools get the same
page bytes in the same run, page by page in turn, over ``--repeat`` passes (default 3): a
page's time is the median of its passes. Prints a table; needs the dataset, so it is not part
of the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import tracemalloc
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.errors import NoArticle  # noqa: E402
from aggregator.extract import extract_article  # noqa: E402

_TOKEN = re.compile(r"\w+", re.UNICODE)
_WS = re.compile(r"\s+")
FAKE_URL = "http://fakehost/test/page.html"


@dataclass
class Case:
    name: str
    url: str
    html: bytes
    reference: str | None = None  # readability: expected plain text
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- datasets

def load_cases(path: Path, limit: int | None) -> tuple[str, list[Case]]:
    if (path / "test-pages").is_dir():
        return "readability", _readability_cases(path / "test-pages", limit)
    if (path / "evaldata.json").is_file():
        return "trafilatura", _trafilatura_cases(path, limit)
    raise SystemExit(f"{path}: neither test-pages/ nor evaldata.json found")


def _readability_cases(root: Path, limit: int | None) -> list[Case]:
    import lxml.html

    cases = []
    for case_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        source = case_dir / "source.html"
        expected = case_dir / "expected.html"
        if not source.is_file() or not expected.is_file():
            continue
        ref_root = lxml.html.fromstring(expected.read_bytes().decode("utf-8", "replace"))
        meta_file = case_dir / "expected-metadata.json"
        meta = json.loads(meta_file.read_text("utf-8")) if meta_file.is_file() else {}
        cases.append(Case(case_dir.name, FAKE_URL, source.read_bytes(),
                          reference=ref_root.text_content(), meta=meta))
        if limit and len(cases) >= limit:
            break
    return cases


def _trafilatura_cases(root: Path, limit: int | None) -> list[Case]:
    data = json.loads((root / "evaldata.json").read_text("utf-8"))
    cases = []
    for url, item in data.items():
        name = item["file"]
        file = root / "cache" / name
        if not file.is_file():
            file = root / "eval" / name
        if not file.is_file():
            continue
        cases.append(Case(name, url, file.read_bytes(), with_=list(item.get("with") or []),
                          without=list(item.get("without") or [])))
        if limit and len(cases) >= limit:
            break
    return cases


# --------------------------------------------------------------------------- tools

def ours(case: Case) -> str:
    try:
        return extract_article(case.html, case.url).text
    except NoArticle:
        return ""


def ours_no_attribution(case: Case) -> str:
    """Body + metadata only (the attribution pass switched off), to show what it costs."""
    import aggregator.extract.article as article_module

    hook = article_module._attribution_hook
    article_module._attribution_hook = None
    try:
        return ours(case)
    finally:
        article_module._attribution_hook = hook


def ours_full(case: Case):  # noqa: ANN201 - Article or None
    try:
        return extract_article(case.html, case.url)
    except NoArticle:
        return None


def trafilatura_tool(case: Case) -> str:
    import trafilatura

    return trafilatura.extract(case.html, url=case.url) or ""


def readability_tool(case: Case) -> str:
    import lxml.html
    from readability import Document

    try:
        summary = Document(case.html).summary(html_partial=True)
        return lxml.html.fromstring(summary).text_content() if summary.strip() else ""
    except Exception:  # noqa: BLE001
        return ""


# --------------------------------------------------------------------------- metrics

def _shingles(text: str) -> Counter:
    tokens = _TOKEN.findall(text.lower())
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def shingle_scores(outputs: list[str], cases: list[Case]) -> tuple[float, float, float]:
    precisions, recalls = [], []
    for out, case in zip(outputs, cases, strict=True):
        pred, ref = _shingles(out), _shingles(case.reference or "")
        tp = sum((pred & ref).values())
        fp = sum(pred.values()) - tp
        fn = sum(ref.values()) - tp
        if not pred:
            precisions.append(1.0 if not ref else 0.0)
        else:
            precisions.append(tp / (tp + fp))
        recalls.append(1.0 if not ref else tp / (tp + fn))
    p, r = statistics.fmean(precisions), statistics.fmean(recalls)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def snippet_scores(outputs: list[str], cases: list[Case]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for out, case in zip(outputs, cases, strict=True):
        text = _WS.sub(" ", out)
        for snippet in case.with_:
            if _WS.sub(" ", snippet).strip() in text:
                tp += 1
            else:
                fn += 1
        for snippet in case.without:
            if _WS.sub(" ", snippet).strip() in text:
                fp += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# --------------------------------------------------------------------------- running

@dataclass
class Run:
    name: str
    outputs: list[str]
    times: list[float]
    peak_kib: float = 0.0


def run_tools(tools: list[tuple[str, Callable[[Case], str]]], cases: list[Case],
              repeat: int = 3) -> list[Run]:
    """Each page goes through every tool in turn, so machine load hits all tools alike; the
    whole set ``repeat`` times. A page's time is the median of its runs; outputs are the
    first run's."""
    runs = [Run(name, [], []) for name, _ in tools]
    per_page: list[list[list[float]]] = [[[] for _ in cases] for _ in tools]
    for rep in range(max(repeat, 1)):
        for i, case in enumerate(cases):
            for t, (run, (_, tool)) in enumerate(zip(runs, tools, strict=True)):
                start = time.perf_counter()
                out = tool(case)
                per_page[t][i].append(time.perf_counter() - start)
                if rep == 0:
                    run.outputs.append(out)
    for t, run in enumerate(runs):
        run.times = [statistics.median(times) for times in per_page[t]]
    return runs


def peak_memory(tool: Callable[[Case], str], cases: list[Case]) -> float:
    """Peak traced Python heap (KiB) while extracting one page at a time: the max over pages."""
    peak = 0
    for case in cases:
        tracemalloc.start()
        tool(case)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peak / 1024


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def print_body_table(kind: str, runs: list[Run], cases: list[Case]) -> None:
    score = shingle_scores if kind == "readability" else snippet_scores
    print(f"\nBody text, {kind} set, {len(cases)} pages")
    print("| tool | P | R | F1 | empty | docs/s | median ms | p95 ms | peak KiB |")
    # docs/s and ms: each page's median over the timed passes
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        p, r, f = score(run.outputs, cases)
        empty = sum(1 for o in run.outputs if not o.strip())
        total = sum(run.times)
        print(f"| {run.name} | {p:.3f} | {r:.3f} | {f:.3f} | {empty} | "
              f"{len(cases) / total:.1f} | {statistics.median(run.times) * 1000:.1f} | "
              f"{_pct(run.times, 0.95) * 1000:.1f} | {run.peak_kib:.0f} |")


# --------------------------------------------------------------------------- metadata

def _norm_title(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


_NAME_STOP = {"by", "and", "von", "par", "und", "the"}


def _name_tokens(text: str) -> set[str]:
    return {t for t in _TOKEN.findall(text.lower()) if t not in _NAME_STOP}


# Lenient forms, for references that keep what the issue says to leave out: a title with
# its " | Site" part, a byline with "By", the date or a URL glued on.
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_TITLE_SEP = re.compile(r"\s+(?:\||-|–|—|·|::|»|:)\s+")
_MONTHS = {"jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun",
           "june", "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october",
           "nov", "november", "dec", "december"}
_BYLINE_WORDS = _NAME_STOP | _MONTHS | {
    "written", "edited", "posted", "published", "updated", "last", "on", "at", "am", "pm",
    "avec", "et", "follow", "author", "de"}


def _title_loose(got: str | None, want: str) -> bool:
    g, w = _norm_title(got).translate(_QUOTES), _norm_title(want).translate(_QUOTES)
    if not g:
        return False
    if g == w:
        return True
    parts = _TITLE_SEP.split(re.sub(r"\s*\[[^\]]*\]\s*$", "", w))
    seps = _TITLE_SEP.findall(w)
    heads = {w.rsplit(sep, 1)[0] for sep in seps} | {w.split(sep, 1)[1] for sep in seps}
    return g in heads or g == parts[0] or g == parts[-1]


def _byline_tokens(text: str) -> set[str]:
    text = re.sub(r"https?://\S+|\(\s*https?://[^)]*\)", " ", text)
    tokens = {re.sub(r"\d+", "", t) for t in _TOKEN.findall(text.lower())}
    return {t for t in tokens if t and t not in _BYLINE_WORDS}


def _date_match(expected: str, got) -> bool:  # noqa: ANN001
    from aggregator.extract.dates import parse_date

    want = parse_date(expected)
    if want is None or got is None:
        return False
    if re.search(r"T\d|\d:\d", expected):
        return want == got
    return want.date() == got.date()


def print_metadata_table(cases: list[Case], *, show_misses: bool = False) -> None:
    import trafilatura

    misses: list[str] = []

    rows = {"ours": [0, 0, 0, 0, 0], "trafilatura": [0, 0, 0, 0, 0]}
    n_title = n_author = n_named = n_date = 0
    for case in cases:
        meta = case.meta
        if not meta:
            continue
        article = ours_full(case)
        doc = trafilatura.bare_extraction(case.html, url=case.url, with_metadata=True)
        tr = {"title": getattr(doc, "title", None), "author": getattr(doc, "author", None),
              "date": getattr(doc, "date", None)} if doc is not None else {}
        got = {
            "ours": (article.title if article else None,
                     ", ".join(article.authors) if article else "",
                     article.published if article else None),
            "trafilatura": (tr.get("title"), tr.get("author") or "", tr.get("date")),
        }
        if meta.get("title"):
            n_title += 1
        if meta.get("byline"):
            n_author += 1
        # a reference byline with no name in it ("Follow Author", "Last Updated: <date>")
        named = bool(meta.get("byline") and _byline_tokens(meta["byline"]))
        n_named += named
        if meta.get("publishedTime"):
            n_date += 1
        for tool, (title, authors, date) in got.items():
            if meta.get("title") and _norm_title(title) == _norm_title(meta["title"]):
                rows[tool][0] += 1
            if meta.get("byline") and authors and _name_tokens(authors) == _name_tokens(
                    meta["byline"]):
                rows[tool][1] += 1
            if meta.get("title") and _title_loose(title, meta["title"]):
                rows[tool][3] += 1
            elif meta.get("title") and tool == "ours":
                misses.append(f"title   {case.name}: {title!r} / reference {meta['title']!r}")
            if named and authors and _byline_tokens(authors) == _byline_tokens(
                    meta["byline"]):
                rows[tool][4] += 1
            elif named and tool == "ours":
                misses.append(f"author  {case.name}: {authors!r} / reference "
                              f"{' '.join(meta['byline'].split())!r}")
            if meta.get("publishedTime"):
                if isinstance(date, str):
                    from aggregator.extract.dates import parse_date

                    date = parse_date(date)
                if _date_match(meta["publishedTime"], date):
                    rows[tool][2] += 1
    print(f"\nMetadata vs expected-metadata.json ({len(cases)} pages)")
    print(f"| tool | title exact ({n_title}) | title, site part ignored | "
          f"author where byline ({n_author}) | author, byline names only ({n_named}) | "
          f"published ({n_date}) |")
    print("|---|---|---|---|---|---|")
    for tool, (t, a, d, tl, al) in rows.items():
        print(f"| {tool} | {t / max(n_title, 1):.1%} | {tl / max(n_title, 1):.1%} | "
              f"{a / max(n_author, 1):.1%} | {al / max(n_named, 1):.1%} | "
              f"{d / max(n_date, 1):.1%} |")
    print("title, site part ignored: equal after typographic quotes are folded, or equal to the"
          " reference\nwithout its part before/after a ' | ', ' - ', ' : ' separator (the"
          " issue asks for titles without\nthe site name). author, byline names only: the"
          " reference byline's words without 'By', dates,\nmonths and URLs, against the words"
          " of the names we give; references whose byline has no name left\n(\"Follow"
          " Author\", \"Last Updated: <date>\") are not counted there.")
    if show_misses:
        print("\nOur misses in the two lenient columns (ours / reference):")
        for line in misses:
            print("  " + line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed passes over the set (a page's time: the median)")
    parser.add_argument("--readability", action="store_true", help="also run readability-lxml")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    parser.add_argument("--no-metadata", action="store_true", help="skip the metadata table")
    parser.add_argument("--split-attribution", action="store_true",
                        help="also time ours without the attribution pass")
    parser.add_argument("--only-ours", action="store_true", help="skip the other tools")
    parser.add_argument("--show-misses", action="store_true",
                        help="list our title and author misses against the reference")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.CRITICAL)

    kind, cases = load_cases(args.dataset, args.limit)
    tools: list[tuple[str, Callable[[Case], str]]] = [("ours", ours)]
    if args.split_attribution:
        tools.append(("ours w/o attribution", ours_no_attribution))
    if not args.only_ours:
        tools.append(("trafilatura", trafilatura_tool))
        if args.readability:
            tools.append(("readability-lxml", readability_tool))
    for _, tool in tools:  # warm up imports and caches outside the timings
        tool(cases[0])
    runs = run_tools(tools, cases, args.repeat)
    if not args.no_memory:
        for run, (_, tool) in zip(runs, tools, strict=True):
            run.peak_kib = peak_memory(tool, cases[:200])
    print_body_table(kind, runs, cases)
    if not args.no_memory:
        print("peak KiB: largest traced Python heap while extracting one page (first 200 pages)")
    if kind == "readability" and not args.no_metadata and not args.only_ours:
        print_metadata_table(cases, show_misses=args.show_misses)


if __name__ == "__main__":
    main()
