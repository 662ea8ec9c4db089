"""Attribution extraction: precision and recall per kind against labelled pages.

    python bench/attribution.py [--verbose] [--mode auto|extract|direct] [--set NAME]...

Labelled sets: fixtures/attribution/<name>.html + .json (ours, 40+ pages) and, when present,
the fixture site's expected files (fixtures/expected/**.json carrying "attributions", page in
fixtures/site/). Mode "extract" runs ``aggregator.extract.extract_article`` (the real
pipeline: body and authors from the extraction stage); "direct" parses with lxml and calls
``find_attributions(root, None, url, [])``; "auto" uses extract when it imports.

Matching, one to one per kind: same kind and normalised name (casefold, punctuation
stripped), and the same URL when the expected row has one. Quotes: same speaker (a lone
surname matches the full name) and overlapping text (>= 50% of the shorter side's words).
Embeds also match on the same post URL. Targets: P >= 0.95, R >= 0.90 for author, source,
quote.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.models import ATTRIBUTION_KINDS, Attribution  # noqa: E402

FAKE_BASE = "http://127.0.0.1:8765"
TARGETS = {"author": (0.95, 0.90), "source": (0.95, 0.90), "quote": (0.95, 0.90)}


@dataclass
class Case:
    set: str
    name: str
    url: str
    html: bytes
    expected: list[dict]


def load_cases(sets: tuple[str, ...] = ("attribution", "site")) -> list[Case]:
    cases: list[Case] = []
    if "attribution" in sets:
        for jf in sorted((ROOT / "fixtures" / "attribution").glob("*.json")):
            hf = jf.with_suffix(".html")
            if not hf.exists():
                continue
            data = json.loads(jf.read_text(encoding="utf-8"))
            cases.append(Case("attribution", jf.stem, data["url"], hf.read_bytes(),
                              data.get("attributions", [])))
    if "site" in sets:
        exp_dir = ROOT / "fixtures" / "expected"
        site_dir = ROOT / "fixtures" / "site"
        for jf in sorted(exp_dir.rglob("*.json")) if exp_dir.exists() else []:
            try:
                data = json.loads(jf.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if not isinstance(data, dict) or "attributions" not in data:
                continue
            rel = str(data.get("path") or jf.relative_to(exp_dir).with_suffix(".html"))
            rel = rel.lstrip("/")
            hf = site_dir / rel
            if not hf.exists() and not rel.endswith(".html"):
                hf = site_dir / (rel + ".html")
            if not hf.exists():
                continue
            raw = hf.read_bytes().replace(b"{{BASE}}", FAKE_BASE.encode())
            expected = json.loads(json.dumps(data["attributions"]).replace("{{BASE}}",
                                                                           FAKE_BASE))
            cases.append(Case("site", rel, f"{FAKE_BASE}/{rel}", raw, expected))
    return cases


# ---------------------------------------------------------------------------- running

def runner(mode: str) -> tuple[str, Callable[[Case], tuple[Attribution, ...]]]:
    if mode in ("auto", "extract"):
        try:
            from aggregator.extract import extract_article
        except ImportError:
            if mode == "extract":
                raise
        else:
            def run_extract(case: Case) -> tuple[Attribution, ...]:
                try:
                    return tuple(extract_article(case.html, case.url).attributions)
                except Exception as exc:  # noqa: BLE001 - a page the extractor rejects
                    print(f"  ! {case.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    return ()
            return "extract", run_extract

    import lxml.html

    from aggregator.extract.attribution import find_attributions

    def run_direct(case: Case) -> tuple[Attribution, ...]:
        try:
            root = lxml.html.document_fromstring(case.html.decode("utf-8"))
        except UnicodeDecodeError:
            root = lxml.html.document_fromstring(case.html)
        return find_attributions(root, None, case.url, [])
    return "direct", run_direct


# ---------------------------------------------------------------------------- matching

def norm_name(s: str | None) -> str:
    s = (s or "").casefold()
    s = re.sub(r"[^\w\s]", "", s)
    return re.sub(r"\s+", " ", s).strip()


_YT = re.compile(r"(?:youtube(?:-nocookie)?\.com/(?:embed/|watch\?v=|shorts/)|youtu\.be/)"
                 r"([\w-]{6,})")


def norm_url(u: str | None) -> str:
    """Host without www, path without trailing slash, tracking parameters dropped; a YouTube
    video is the same video whether embedded or linked."""
    if not u:
        return ""
    yt = _YT.search(u)
    if yt:
        return f"youtube:{yt.group(1)}"
    p = urlsplit(u.strip())
    host = (p.hostname or "").lower().removeprefix("www.")
    path = p.path.rstrip("/")
    q = "&".join(x for x in p.query.split("&") if x and not x.startswith(("utm_", "ref_src")))
    return f"{host}{path}" + (f"?{q}" if q else "")


def words(s: str | None) -> list[str]:
    return re.findall(r"\w+", (s or "").casefold())


def same_speaker(a: str, b: str) -> bool:
    na, nb = norm_name(a), norm_name(b)
    if na == nb:
        return True
    ta, tb = na.split(), nb.split()
    if not ta or not tb:
        return False
    return (len(ta) == 1 and ta[0] == tb[-1]) or (len(tb) == 1 and tb[0] == ta[-1])


def text_overlap(a: str | None, b: str | None) -> float:
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    sa, sb = set(wa), set(wb)
    return len(sa & sb) / min(len(sa), len(sb))


def matches(exp: dict, got: Attribution) -> bool:
    if exp.get("kind") != got.kind:
        return False
    if got.kind == "quote":
        return same_speaker(exp.get("name") or "", got.name) and \
            text_overlap(exp.get("text"), got.text) >= 0.5
    if got.kind == "embed" and exp.get("url") and got.url and \
            norm_url(exp["url"]) == norm_url(got.url):
        return True
    if norm_name(exp.get("name")) != norm_name(got.name):
        return False
    if exp.get("url"):
        return norm_url(exp["url"]) == norm_url(got.url)
    return True


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def p(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def r(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score_case(expected: list[dict], got: tuple[Attribution, ...],
               roles: list[int] | None = None
               ) -> Iterator[tuple[str, str, dict | Attribution]]:
    """Yields ("tp"|"fp"|"fn", kind, row). ``roles`` ([right, stated]) tallies, for the
    matched quotes whose expected row states the speaker's role, how many have it."""
    free = list(got)
    for exp in expected:
        hit = next((g for g in free if matches(exp, g)), None)
        if hit is None:
            yield "fn", exp.get("kind", "?"), exp
        else:
            free.remove(hit)
            if roles is not None and hit.kind == "quote" and exp.get("role"):
                roles[1] += 1
                roles[0] += text_overlap(exp["role"], hit.role) >= 0.5
            yield "tp", exp.get("kind", "?"), exp
    for g in free:
        yield "fp", g.kind, g


def evaluate(cases: list[Case], run: Callable[[Case], tuple[Attribution, ...]],
             roles: list[int] | None = None
             ) -> tuple[dict[str, Score], list[tuple[Case, str, object]], float]:
    scores: dict[str, Score] = {k: Score() for k in ATTRIBUTION_KINDS}
    misses: list[tuple[Case, str, object]] = []
    t0 = time.perf_counter()
    for case in cases:
        got = run(case)
        for verdict, kind, row in score_case(case.expected, got, roles):
            sc = scores.setdefault(kind, Score())
            setattr(sc, verdict, getattr(sc, verdict) + 1)
            if verdict != "tp":
                misses.append((case, verdict, row))
    return scores, misses, time.perf_counter() - t0


def describe(row: object) -> str:
    if isinstance(row, Attribution):
        return (f"{row.kind:13} {row.name!r} url={row.url} role={row.role!r} "
                f"text={(row.text or '')[:70]!r}")
    assert isinstance(row, dict)
    return (f"{row.get('kind', '?'):13} {row.get('name')!r} url={row.get('url')} "
            f"role={row.get('role')!r} text={(row.get('text') or '')[:70]!r}")


def table(scores: dict[str, Score]) -> str:
    lines = ["| kind | expected | found | tp | P | R | target |",
             "|---|---|---|---|---|---|---|"]
    total = Score()
    for kind, sc in scores.items():
        total.tp += sc.tp
        total.fp += sc.fp
        total.fn += sc.fn
        tgt = TARGETS.get(kind)
        ok = ""
        if tgt:
            ok = "ok" if sc.p >= tgt[0] and sc.r >= tgt[1] else "BELOW"
        lines.append(f"| {kind} | {sc.tp + sc.fn} | {sc.tp + sc.fp} | {sc.tp} | {sc.p:.3f} | "
                     f"{sc.r:.3f} | {ok} |")
    lines.append(f"| **all** | {total.tp + total.fn} | {total.tp + total.fp} | {total.tp} | "
                 f"{total.p:.3f} | {total.r:.3f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verbose", "-v", action="store_true", help="list every miss")
    ap.add_argument("--mode", choices=("auto", "extract", "direct"), default="auto")
    ap.add_argument("--set", action="append", choices=("attribution", "site"),
                    help="labelled set(s) to score (default: both)")
    ap.add_argument("--pages", metavar="PREFIX", help="only pages whose name starts so "
                    "(e.g. holdout-: the slice written after the extractor was frozen)")
    args = ap.parse_args(argv)
    sets = tuple(args.set or ("attribution", "site"))
    cases = load_cases(sets)
    if args.pages:
        cases = [c for c in cases if c.name.startswith(args.pages)]
    mode, run = runner(args.mode)
    for s in sets:
        subset = [c for c in cases if c.set == s]
        if not subset:
            print(f"\n{s}: no labelled pages found")
            continue
        roles = [0, 0]
        scores, misses, secs = evaluate(subset, run, roles)
        print(f"\n{s}: {len(subset)} pages, mode={mode}, {secs * 1000 / len(subset):.1f} ms/page")
        print(table(scores))
        print(f"speaker's role, where the expected quote states one: {roles[0]}/{roles[1]}"
              f" ({roles[0] / max(roles[1], 1):.0%})")
        if args.verbose and misses:
            print("\nmisses:")
            for case, verdict, row in misses:
                print(f"  {verdict.upper()} {case.name}: {describe(row)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
