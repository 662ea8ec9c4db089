"""Cited sources and press releases found in the sentences of the article body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aggregator.extract.attr_text import (
    CORP_WORDS,
    NAME_AFTER,
    NAME_BEFORE,
    Block,
    Link,
    _words,
    clean_space,
    host_of,
    looks_like_person,
    plausible_name,
    sentences,
    tidy_name,
)


@dataclass
class Found:
    kind: str
    name: str
    url: str | None
    role: str | None
    text: str | None
    order: tuple[int, int]
    details: dict[str, str] = field(default_factory=dict)


# a link whose text is only a marker: its name comes from the words before it
_MARKER = re.compile(r"^(?:\[?\d{1,3}\]?|\(\d{1,3}\)|link|here|this|source|pdf|\*|†|↗|→)$", re.I)
_FOOTNOTE_TEXT = re.compile(r"^\[?\d{1,3}\]?$")

_REPORT_VERBS = (
    r"reports|reported|has reported|have reported|is reporting|was reporting|writes|wrote|"
    r"has learned|has learnt|learned|revealed|reveals|first revealed|has revealed|notes|noted|"
    r"claims|claimed|spotted|first spotted|broke the news|scooped|published|has published|"
    r"understands|confirmed|has confirmed|says|said"
)
_RE_REPORTS = re.compile(rf"\s*(?:,[^,]{{1,60}},\s*)?(?:(?:first|also|now|recently|earlier)\s+)?"
                         rf"(?<![\w-])(?P<verb>{_REPORT_VERBS})\b")
# after an unlinked "X reported", what follows must read like reporting, not "reports a bug"
_REPORT_TAIL = re.compile(
    r"\s*(?:$|[,.;:)—–-]|that\b|on\b|in\s+(?:a|an|its|the)\b|last\b|this\b|earlier\b|"
    r"yesterday\b|today\b|late\b|(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday)\b|citing\b|\(|according\b|first\b|exclusively\b|via\b|in\b)")


def _name_like(text: str) -> bool:
    """Link text that can be an outlet's name: short, mostly capitalised words."""
    toks = text.split()
    if not toks or len(toks) > 6:
        return False
    return any(t[:1].isupper() or t[:1].isdigit() for t in toks) and (
        toks[0][:1].isupper() or toks[0][:1].isdigit() or "'" in toks[0] or "." in toks[0])
_RE_REPORT_NOUN = re.compile(
    r"\b(?:(?:a|an|the|this|that)\s+)?(?:new\s+|recent\s+|latest\s+|separate\s+|earlier\s+)?"
    r"(?:report|story|article|scoop|post|piece|interview|investigation|leak|video|listing|"
    r"filing)s?\s+(?:by|from|in|on|at|with|published by|published in|posted by)\s+$",
    re.I)
_PERSONAL_SUBJ = re.compile(r"(?:^|\s)(?:he|she|they|it|we|i)\s*$", re.I)

# (regex, role, name side) — side "after": the name follows the match
_AFTER_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bfirst reported by\s+", re.I), "first reported by"),
    (re.compile(r"\bwas first reported (?:on|in|at)\s+", re.I), "first reported by"),
    (re.compile(r"\b(?:as\s+)?(?:reported|revealed|spotted|noticed|uncovered|discovered|"
                r"broken|scooped|seen|obtained)\s+(?:first\s+)?by\s+", re.I), "reports"),
    (re.compile(r"(?:\baccording to|\b(?:laut|selon|d['’]après|gemäß|zufolge)\b)\s+"
                r"(?:(?:a|an|the)\s+)?(?:(?-i:new|recent|latest|separate|"
                r"leaked|exclusive)\s+)?(?:(?:report|story|article|post|filing|listing|"
                r"document|survey|data|figures|leak|interview|video|statement)s?\s+"
                r"(?:by|from|in|on|at|published by|with)\s+)?", re.I), "according to"),
    (re.compile(r"\b(?:in a|in an|in its|in their|in the)?\s*(?:statement|comment|comments|"
                r"email|e-mail)\s+(?:sent\s+)?to\s+", re.I), "statement"),
    (re.compile(r"\b(?:confirmed|explained|said|stated|admitted|revealed|disclosed|clarified|"
                r"announced)(?:\s+(?:the|this|that|its|a)\s+[a-z]+)?\s+to\s+"), "statement"),
    (re.compile(r"\b(?:told|telling|tells)\s+", re.I), "told"),
    (re.compile(r"\b(?:in an|in a|during an|during a)\s+(?:recent\s+|exclusive\s+)?"
                r"(?:interview|conversation|chat|podcast)\s+with\s+", re.I), "told"),
    (re.compile(r"(?:^|[\s(\[])(?:via|per)\s*:?\s+", re.I), "via"),
    (re.compile(r"(?:^|[\s(\[])(?:h/t|hat[ -]tip|ht(?=:))\s*(?::|to)?\s*", re.I), "h/t"),
    (re.compile(r"\bcit(?:ing|ed)\s+(?:(?:a|an|the)\s+)?(?:(?:report|story|article)s?\s+"
                r"(?:by|from|in)\s+)?", re.I), "according to"),
    (re.compile(r"\b(?:originally)\s+(?:appeared|published|ran|posted)\s+"
                r"(?:on|in|at|by)\s+", re.I), "source"),
    (re.compile(r"\bfirst\s+(?:published|posted|leaked|shared|tweeted)\s+(?:on|in|at|by)\s+",
                re.I), "first reported by"),
    (re.compile(r"\breprinted (?:with permission )?from\s+|\brepublished (?:with permission )?"
                r"from\s+|\bcourtesy of\s+", re.I), "source"),
]
_RE_SOURCE_LABEL = re.compile(r"(?:^|[\s(\[—–-])(?P<lab>Sources?|Quelle|Quellen)\s*:\s*", re.I)
_RE_BRACKET = re.compile(r"\[(?P<inner>[^\[\]\d][^\[\]]{1,70})\]")
_BRACKET_STOP = re.compile(
    r"^(?:update|updated|edit|editor|editors|note|video|photo|photos|image|images|sponsored|"
    r"ad|advert|correction|disclosure|spoiler|sic|citation needed|archive|pdf|link|via|"
    r"source|sources|h/t|emphasis|translated|translation|embed|gallery|more|read more)\b", re.I)
_RE_FIRST_TO_REPORT = re.compile(r"\s+(?:was|were)\s+(?:the\s+)?first\s+to\s+(?:report|break|"
                                 r"spot|publish)\b", re.I)

_PRESS_URL = re.compile(
    r"(?:/press(?:[-_]?releases?|room|centre|center|[-_]?news|e)?(?:/|$|\.|-)|/newsroom(?:/|$)|"
    r"/news[-_]?room|press[-_]release|pressemitteilung|/pressreleases?/|/media[-_]?(?:centre|"
    r"center|room|releases?)/|/(?:media|press)/(?:releases?|news)/|/communique|"
    r"/announcements?/|/investor[-_]relations/)", re.I)
_PRESS_HOSTS = ("prnewswire.com", "businesswire.com", "globenewswire.com", "newswire.ca",
                "accesswire.com", "einpresswire.com", "presseportal.de", "prweb.com")
_NEWS_URL = re.compile(r"/news(?:/|$|\.)|/announcement|/release", re.I)
_PRESS_WORDS = re.compile(
    r"press release|news release|statement|announce|unveil|launch|introduc|confirm|official|"
    r"\bpress\b|pressemitteilung|communiqu|annonc|vorgestellt|angekündigt", re.I)
_PR_SUBJECT = re.compile(
    r"(?:^|[\s(])(?P<name>[A-Z][\w&.'’-]*(?:\s+(?:[A-Z][\w&.'’-]*|of|&)){0,4})"
    r"(?:['’]s)?\s+(?:has\s+|have\s+|official\s+|officially\s+|today\s+|formally\s+|just\s+|also\s+)?"
    r"(?:announced|announces|unveiled|unveils|launched|launches|introduced|introduces|"
    r"revealed|reveals|confirmed|confirms|said|says|released|releases|published|"
    r"press release|statement|news release|announcement)\b")
# "X's first / new / latest ..." next to a release link: X made the product it announces.
_PR_MAKER = re.compile(r"(?:^|[\s(,])(?P<name>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,2})['’]s\s+"
                       r"(?:first|new|newest|latest|upcoming|own)\b")
_PR_FROM = re.compile(r"(?:press release|statement|announcement|news release)\s+(?:from|by)\s+"
                      r"(?P<name>[A-Z][\w&.'’-]*(?:\s+[A-Z][\w&.'’-]*){0,3})")

_OUTLET_HOSTS = ("reuters.com", "bloomberg.com", "nikkei.com", "apnews.com", "bbc.co.uk",
                 "theverge.com", "engadget.com", "petapixel.com", "dpreview.com",
                 "digitalcameraworld.com", "nytimes.com", "wsj.com", "cnbc.com")


def _name_after(text: str, pos: int, links: list[Link]) -> tuple[str, Link | None, int]:
    """The name that starts at ``pos``: a link there, else a proper-name phrase."""
    m = re.match(r"\s*(?:the\s+)?", text[pos:])
    at = pos + (m.end() if m else 0)
    d = _DESCRIPTOR.match(text, at)
    if d and d.end() < len(text) and (text[d.end()].isupper() or any(
            ln.start == d.end() for ln in links)):
        at = d.end()
    for ln in links:
        if at < ln.start <= at + 45 and ln.end > ln.start and not _MARKER.match(ln.text):
            gap = text[at:ln.start]
            if _GAP_OK.fullmatch(gap):
                return tidy_name(_strip_lower_lead(ln.text)), ln, ln.end
    for ln in links:
        if at - 6 <= ln.start <= at + 1 and ln.end > ln.start and ln.start >= pos - 1:
            name = ln.text
            if _MARKER.match(name):
                continue
            return tidy_name(name), ln, ln.end
    m2 = NAME_AFTER.match(text, at) if at < len(text) else None
    if not m2:
        return "", None, pos
    name = tidy_name(m2.group("name"))
    return name, None, m2.end()


def _name_before(text: str, pos: int, links: list[Link]) -> tuple[str, Link | None]:
    """The name that ends at ``pos``: a link there, else a proper-name phrase."""
    head = text[:pos].rstrip()
    head = re.sub(r"['’]s$", "", head)
    end = len(head)
    for ln in reversed(links):
        if end - 3 <= ln.end <= end + 1 and ln.end > ln.start:
            if _MARKER.match(ln.text):
                continue
            return tidy_name(_strip_lower_lead(ln.text)), ln
        if ln.start < end < ln.end and ln.end > ln.start:
            # the link holds the verb too: "<a>DPReview noted</a>"
            return tidy_name(_strip_lower_lead(text[ln.start:end])), ln
    # "the Nikkei newspaper reported": the descriptor after the name is not part of it
    head = _TRAILING_DESCRIPTOR.sub("", head)
    cut = max(0, len(head) - 90)
    window = head[cut:]
    m = NAME_BEFORE.search(window)
    if not m:
        return "", None
    name = m.group("name")
    # "Yesterday Nikkei Asia" -> the sentence-start word is not part of the name
    toks = name.split()
    start = cut + m.start("name")
    start_of_sentence = start == 0 or head[:start].rstrip().endswith(
        (".", ":", ";", "\n", "—", "(", "\""))
    if start_of_sentence and len(toks) > 1 and toks[0].lower() in _SENTENCE_STARTERS:
        name = " ".join(toks[1:])
    return tidy_name(name), None


_DESCRIPTOR = re.compile(
    r"(?:(?:a|an|the)\s+)?(?:[A-Z][a-z]*\s+)?(?:[a-z-]+\s+){0,2}(?:daily|newspaper|paper|"
    r"outlet|site|website|blog|magazine|publication|agency|broadcaster|network|channel|"
    r"tabloid|weekly|journal|service|researcher|research firm|firm|leaker|forum|publisher|"
    r"retailer|analyst|analysts|tracker|group|podcast|youtuber|vlogger|newsletter|account|"
    r"handle|user|channel|creator|tipster)\s+")

_GAP_OK = re.compile(
    r"(?:(?!(?:in|on|at|with|about|that|for|to|of|from|by|and|or|but|which|who|when)\b)"
    r"(?:[a-zà-ÿ'’-]+|[A-Z][a-z]+(?:ese|an|ish|ian|ch|ic))\s+){1,4}")


def _strip_lower_lead(name: str) -> str:
    """"as Lens & Light" -> "Lens & Light"."""
    toks = name.split()
    while len(toks) > 1 and toks[0] in ("as", "by", "via", "per", "from", "the", "and", "at",
                                         "in", "on", "to", "says", "said", "reports", "told"):
        toks = toks[1:]
    return " ".join(toks)


_TRAILING_DESCRIPTOR = re.compile(
    r"(?<=[A-Za-z])\s+(?:newspaper|daily|paper|website|site|magazine|agency|news agency|"
    r"broadcaster|outlet|blog|tabloid|weekly|wire service|newswire)$")

_SENTENCE_STARTERS = _words("""yesterday today earlier meanwhile now however separately
additionally also and but last this on in at as after before while""")


def _ok_source(name: str, persons: set[str], own: tuple[str, ...], role: str = "") -> bool:
    if not plausible_name(name):
        return False
    low = name.casefold()
    squashed = re.sub(r"[\W_]+", "", low)
    if any(squashed and (squashed == o or (len(squashed) > 5 and o.startswith(squashed)))
           for o in own):
        return False  # the page's own site ("told GearPulse")
    if role == "h/t":
        return True
    if low in persons or any(low == p.split()[-1] for p in persons if p):
        return False
    if _TITLE_PERSON.match(name) or re.search(r"\w['’]s\s+[A-Z]", name):
        return False  # "President Jacob Zuma", "RedMonk's Stephens"
    return not looks_like_person(name)


_TITLE_PERSON = re.compile(
    r"(?:President|Vice President|Prime Minister|Minister|Secretary|Senator|Sen\.|Rep\.|Gov\.|"
    r"Governor|Mayor|Judge|Justice|Chancellor|King|Queen|Prince|Princess|Pope|Mr\.?|Mrs\.?|"
    r"Ms\.?|Dr\.?|Prof\.?|Professor|Sir|Dame|Lord|Lady|General|Gen\.|Colonel|Captain|CEO|"
    r"Chairman|Chief|Director|Founder|Herr|Frau|Monsieur|Madame)\s+[A-Z]")


def own_site_names(root_names: list[str], page_url: str) -> tuple[str, ...]:
    """Squashed names of the page's own site: og:site_name, title suffix, host label."""
    out = {re.sub(r"[\W_]+", "", n.casefold()) for n in root_names if n}
    host = host_of(page_url)
    if host:
        parts = host.split(".")
        out.add(re.sub(r"[\W_]+", "", (parts[-2] if len(parts) >= 2 else parts[0]).casefold()))
    return tuple(o for o in out if len(o) >= 3)


def _url_ok(ln: Link | None) -> str | None:
    return ln.href if ln is not None else None


def find_sources(blocks: list[Block], persons: set[str], page_url: str,
                 own: tuple[str, ...] = (), org: str | None = None) -> list[Found]:
    """Source and press-release rows from the body blocks. ``own``: squashed names of the
    page's own site, never a source of itself."""
    found: list[Found] = []
    page_host = host_of(page_url)
    for block in blocks:
        text = block.text
        if _is_furniture_text(text):
            continue
        for s, e in sentences(text):
            sent = text[s:e]
            links = [Link(ln.start - s, ln.end - s, ln.href, ln.text)
                     for ln in block.links if ln.start >= s and ln.end <= e]
            rows = _sentence_sources(sent, links, persons, own, page_host)
            rows.extend(_statement_subjects(sent, links, persons, own, org, rows))
            reporters = [r for r in rows if r.role in ("reports", "according to",
                                                        "first reported by", "source")]
            for r in rows:
                if r.role == "via" and reporters:
                    r.details["cited_by"] = reporters[0].name
                r.order = (block.order, s + r.order[1])
                r.text = clean_space(sent)
                if r.url and r.role in ("source", "via", "according to") and \
                        _press_shaped(r.url, page_host):
                    r.kind = "press_release"  # "Source: Leica [1]" pointing at a release
            found.extend(rows)
            used = {r.url for r in rows if r.url}
            found.extend(_press_releases(sent, links, used, block.order, s, page_host,
                                         text[:s], org, persons))
    full_text = "\n".join(b.text for b in blocks)
    for f in found:
        if f.kind == "press_release":
            f.name = _expand_org(f.name, full_text)
    return found


_ORG_SUFFIX = ("Optics", "Corporation", "Corp", "Corp.", "Inc", "Inc.", "Ltd", "Ltd.", "GmbH",
               "AG", "Group", "Imaging", "Electronics", "Holdings", "Optique", "Optical")


def _expand_org(name: str, text: str) -> str:
    """"Kestrel" -> "Kestrel Optics" when the article names the company in full."""
    if " " in name or not name:
        return name
    counts: dict[str, int] = {}
    for m in re.finditer(rf"\b{re.escape(name)}\s+([A-Z][\w.]*)", text):
        if m.group(1) in _ORG_SUFFIX:
            full = f"{name} {m.group(1)}"
            counts[full] = counts.get(full, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else name


_ORG_SUBJECT = re.compile(
    r"(?:^|[.!?]\s+)(?P<name>[A-Z][\w&'’-]*(?:\s+[A-Z][\w&'’-]*){0,3})(?:['’]s)?\s+"
    r"(?:has|have|had|is|was|will|would|said|says|announced|confirmed|plans|launched|"
    r"released|introduced|unveiled|raised|cut|reported|told|opened|could|may|might|did|does|"
    r"makes|made|sells|sold|expects|declined|denied|"
    # German and French: the auxiliary or verb after the subject
    r"hat|hatte|haben|wird|ist|war|kündigt|kündigte|stellt|stellte|bringt|brachte|"
    r"a\s+(?:annoncé|présenté|lancé|confirmé|ouvert|dévoilé)|annonce|présente|lance)\b")


def main_org(blocks: list[Block], persons: set[str], headline: str = "") -> str | None:
    """The organisation the story is about: the most frequent organisation-like subject.
    Stands in for "the company" / "the firm" / "the maker"."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, b in enumerate(blocks[:12]):
        for m in _ORG_SUBJECT.finditer(b.text):
            name = tidy_name(m.group("name"))
            toks = name.split()
            if toks and toks[0].lower() in _SENTENCE_STARTERS | {"the", "a", "an", "it"}:
                continue
            if not plausible_name(name) or looks_like_person(name) or \
                    name.casefold() in persons:
                continue
            if any(name.casefold() == p.split()[-1] for p in persons if p) and \
                    not _brand_marks(name, blocks, headline):
                continue  # "Ishida has led ...": the person, unless products carry the name
            counts[name] = counts.get(name, 0) + (2 if i < 4 else 1)
            first.setdefault(name, i)
    if not counts:
        return None
    text = "\n".join(b.text for b in blocks)
    mentions = {k: len(re.findall(rf"\b{re.escape(k)}\b", text)) for k in counts}
    ranked = sorted(counts, key=lambda k: (counts[k] + mentions[k], -first[k]), reverse=True)
    best = ranked[0]
    return best if mentions[best] >= 2 else None


def _brand_marks(name: str, blocks: list[Block], headline: str = "") -> bool:
    """A name that also heads product names or a corporate suffix ("Norikawa NX-70",
    "Norikawa Corporation") is a company even when a person shares it."""
    rx = re.compile(rf"\b{re.escape(name)}\s+(?:[A-Z]+-?\d|(?:{'|'.join(_ORG_SUFFIX_RX)})\b)")
    return bool(rx.search(headline)) or any(rx.search(b.text) for b in blocks)


_ORG_SUFFIX_RX = ("Optics", "Corporation", "Corp", "Inc", "Ltd", "GmbH", "AG", "Group",
                  "Imaging", "Electronics", "Holdings", "Global", "Co")

_THE_COMPANY = re.compile(r"\b(?:the|The)\s+(?:company|firm|maker|manufacturer|camera maker|"
                          r"lens maker|group|brand)\s*$")
_STATEMENT_VERB = re.compile(
    r"\b(?:said|says|stated|confirmed|has confirmed|told|explained|announced|added|"
    r"clarified)\b(?=[^.]{0,80}\bstatement\b)|"
    r"\b(?:confirmed|has confirmed|explained|clarified)(?:\s+[a-z]+){0,3}\s+to\s+[A-Z]")
_SPOKES = re.compile(r"(?P<org>[A-Z][\w&'’-]*(?:\s+[A-Z][\w&'’-]*){0,3}?)(?:['’]s)?\s+"
                     r"(?:spokesperson|spokesman|spokeswoman|representative|press office)"
                     r"(?:\s+[A-Z][\w'’-]+){0,3}\s*$")


def _statement_subjects(sent: str, links: list[Link], persons: set[str],
                        own: tuple[str, ...], org: str | None,
                        rows: list[Found]) -> list[Found]:
    """"Sony confirmed in a statement to PetaPixel", "the company told Lens & Light in a
    statement": the organisation that made the statement is a source too."""
    out: list[Found] = []
    low = sent.lower()
    if "statement" not in low and "confirmed" not in low:
        return out
    for m in _STATEMENT_VERB.finditer(sent):
        head = sent[:m.start()]
        sm = _SPOKES.search(head.rstrip())
        if _THE_COMPANY.search(head):
            name, ln = (org or ""), None
        elif sm:
            name, ln = tidy_name(sm.group("org")), None
        else:
            name, ln = _name_before(sent, m.start(), links)
            if ln is not None:
                continue
        if not name or " " in name.strip() and name != org and not any(
                w.lower().strip(".") in CORP_WORDS or (w.isupper() and len(w) > 1) or
                (org and w in org.split()) for w in name.split()):
            continue  # two plain capitalised words are more likely a person
        if not _ok_source(name, persons, own, "statement"):
            continue
        if any(r.name.casefold() == name.casefold() for r in rows + out):
            continue
        out.append(Found("source", name, None, "statement", None, (0, m.start())))
        break
    return out


def _press_shaped(url: str, page_host: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return bool(_PRESS_URL.search(path)) or host_of(url).endswith(_PRESS_HOSTS)


_FURNITURE = re.compile(r"^(?:related|read more|more|see also|also read|read next|recommended|"
                        r"you may also like|further reading|more from|sponsored|advertisement|"
                        r"share|follow us|sign up|subscribe|tags?|filed under|categories)\b"
                        r"\s*[:|»>-]?", re.I)


def _is_furniture_text(text: str) -> bool:
    return bool(_FURNITURE.match(text.strip()))


_TRIGGERS = ("accord", "report", "via", "per ", "h/t", "hat tip", "hat-tip", "ht:", "told",
             "tell", "statement", "source", "quelle", "first", "spott", "reveal", "scoop",
             "learn", "claim", "note", "wrote", "writes", "citing", "cited", "originally",
             "courtesy", "interview", "laut", "selon", "d'après", "d’après", "gemäß", "zufolge",
             "seen by", "obtained", "[", "confirm", "explain", "stated", "admitted", "disclos",
             "clarif", "announced to", "said to", "published", "reprinted", "understands",
             "broke", "reviewed by")
_TRIGGER_RE = re.compile("|".join(re.escape(t) for t in _TRIGGERS))
# a cheap substring test per pattern before the regex runs (same order as _AFTER_PATTERNS)
_AFTER_GATES: tuple[tuple[str, ...], ...] = (
    ("first reported",), ("first reported",), (" by ",),
    ("accord", "laut", "selon", "après", "gemäß", "zufolge"), (" to ",), (" to ",),
    ("tell", "told"), (" with ",), ("via", "per"), ("h/t", "hat", "ht:"), ("cit",),
    ("originally",), ("first ",), ("reprinted", "republished", "courtesy"))
_REPORT_GATE = ("report", "writ", "wrote", "learn", "reveal", "note", "claim", "spott", "broke",
                "scoop", "publish", "understand", "confirm")


def _sentence_sources(sent: str, links: list[Link], persons: set[str],
                      own: tuple[str, ...], page_host: str = "") -> list[Found]:
    rows: list[Found] = []
    low = sent.lower()
    if not _TRIGGER_RE.search(low):
        return rows
    taken: list[tuple[int, int]] = []

    def add(name: str, ln: Link | None, role: str, pos: int, span: tuple[int, int]) -> None:
        if not _ok_source(name, persons, own, role):
            return
        url = _url_ok(ln)
        for r in rows:
            if r.name.casefold() == name.casefold() and r.url == url:
                return
        rows.append(Found("source", name, url, role, None, (0, pos)))
        taken.append(span)

    # "Source: Leica [1] [2]" / "Sources: A, B"
    for m in _RE_SOURCE_LABEL.finditer(sent):
        rest_start = m.end()
        stop = len(sent)
        close = re.search(r"[)\]]\s*(?:[.;]|$)|\n", sent[rest_start:])
        if close:
            stop = rest_start + close.start()
        _label_list(sent, links, rest_start, stop, add)

    # bracketed credit line "[Digital Camera World]"
    brackets = list(_RE_BRACKET.finditer(sent)) if "[" in sent else []
    for m in brackets if len(brackets) == 1 else ():
        if m.group("inner") != m.group("inner").strip():
            continue  # "[ Send Your Request ]" is a button, not a credit line
        inner = m.group("inner").strip()
        toks = inner.split()
        if _BRACKET_STOP.match(inner) or len(toks) > 6 or any(c.isdigit() for c in inner):
            continue
        if len(toks) == 1 and inner.isupper() and len(inner) > 3:
            continue  # "[HTTP]", "[CORS]": a reference key, not an outlet
        if not all(t[0].isupper() or t.lower() in ("of", "the", "and", "&", "de", "für")
                   for t in toks):
            continue
        if sent[:m.start()].strip() or sent[m.end():].strip(" .)"):
            continue  # only a line that is the bracket alone: "[Digital Camera World]"
        ln = next((x for x in links if x.start >= m.start() and x.end <= m.end()), None)
        add(tidy_name(ln.text if ln else inner), ln, "credit", m.start(), (m.start(), m.end()))

    for (rx, role), gate in zip(_AFTER_PATTERNS, _AFTER_GATES, strict=True):
        if not any(g in low for g in gate):
            continue
        for m in rx.finditer(sent):
            name, ln, end = _name_after(sent, m.end(), links)
            if not name:
                continue
            if role == "via" and not _via_ok(sent, m, ln, end):
                continue
            if role == "statement" and name.split()[0].lower() in ("me", "us", "reporters"):
                continue
            add(name, ln, role, m.end(), (m.start(), end))
            # "(via A and B)" / "h/t A, B"
            if role in ("via", "h/t"):
                _continue_list(sent, links, end, role, add)

    # "X reports ..." with X right before the verb
    for m in _RE_REPORTS.finditer(sent) if any(g in low for g in _REPORT_GATE) else ():
        verb = m.group("verb").lower()
        before = sent[:m.start()]
        if not before.strip() or _PERSONAL_SUBJ.search(before):
            continue
        if sent[m.end():m.end() + 2].startswith(":") or re.match(r"\s+from\b",
                                                                   sent[m.end():]):
            continue  # "Makali wrote:" introduces a quotation; "X reported from Seoul"
        name, ln = _name_before(sent, m.start(), links)
        if verb in ("says", "said", "confirmed", "has confirmed", "notes", "noted", "published",
                    "has published", "understands", "claims", "claimed", "writes", "wrote"):
            # only a link to another site counts with these weak verbs
            if ln is None or verb in ("said", "says", "confirmed", "has confirmed") or \
                    host_of(ln.href) == page_host:
                continue
        elif verb in ("reports", "claims", "reveals", "notes") and \
                not _REPORT_TAIL.match(sent[m.end():]) and \
                not re.search(r",\s*$", sent[:max(0, m.start() - len(name))]):
            continue  # "the IDE now reports a version mismatch"
        if ln is not None and not _name_like(name):
            continue
        if not name:
            continue
        # a quote's attribution ("… ," reported Bloomberg) is still a source; names
        # that are people are dropped by _ok_source
        role = "first reported by" if "first" in m.group().lower() and verb.endswith(
            ("reported", "revealed", "spotted")) else "reports"
        add(name, ln, role, max(0, m.start() - len(name)), (m.start() - len(name), m.end()))

    for m in _RE_FIRST_TO_REPORT.finditer(sent):
        name, ln = _name_before(sent, m.start(), links)
        add(name, ln, "first reported by", max(0, m.start() - len(name)), (m.start(), m.end()))

    # "a report from X" with a preceding noun
    for ln in links:
        if ln.end <= ln.start or _MARKER.match(ln.text):
            continue
        if _RE_REPORT_NOUN.search(sent[max(0, ln.start - 70):ln.start]):
            add(tidy_name(ln.text), ln, "reports", ln.start, (ln.start, ln.end))

    rows.sort(key=lambda r: r.order[1])
    return rows


def _via_ok(sent: str, m: re.Match[str], ln: Link | None, end: int) -> bool:
    """"via" and "per" name a source only when linked, bracketed, leading the line, or
    next to a reporting verb; "via Bluetooth" and "per second" do not."""
    word = m.group().strip(" ([").lower()
    if word.startswith("per"):
        return ln is not None and m.group().lstrip().startswith("(")
    if ln is not None:
        # "(via PetaPixel)", "Via: X", "X reports via Y", "..., via Y." — not "available via"
        return m.group().lstrip().startswith(("(", "[")) or m.start() == 0 or bool(
            re.search(r"\b(?:report|according|told|said|says|claim|rumou?r|leak|spotted|"
                      r"first|source|confirm|revealed|posted|shared)", sent, re.I)) or \
            bool(re.match(r"\s*[).]?\s*$", sent[end:])) and "," in sent[max(0, m.start() - 3):
                                                                  m.start() + 1]
    if m.group().lstrip().startswith(("(", "[")) or m.start() == 0:
        return True
    return bool(re.search(r"\b(?:reports?|reported|according to|first spotted)\b",
                          sent[:m.start()], re.I))


def _label_list(sent: str, links: list[Link], start: int, stop: int, add) -> None:  # type: ignore[no-untyped-def]
    """Names in "Source: A [1] [2], B and C"; each link is a row."""
    seg = sent[start:stop]
    parts = re.split(r"\s*(?:,|;|\band\b|&|\|)\s*", seg)
    offset = start
    for part in parts:
        idx = sent.find(part, offset) if part else -1
        if idx < 0:
            continue
        offset = idx + len(part)
        p_links = [ln for ln in links if ln.start >= idx and ln.end <= idx + len(part)
                   and ln.end > ln.start]
        plain = part
        for ln in sorted(p_links, key=lambda x: -x.start):
            if _MARKER.match(ln.text):
                a, b = ln.start - idx, ln.end - idx
                plain = plain[:a] + plain[b:]
        plain = tidy_name(re.sub(r"\[\s*\]|\(\s*\)", "", plain))
        if p_links:
            for ln in p_links:
                name = plain if (_MARKER.match(ln.text) and plain) else tidy_name(ln.text)
                if _MARKER.match(name):
                    continue
                add(name, ln, "source", ln.start, (ln.start, ln.end))
        elif plain:
            add(plain, None, "source", idx, (idx, idx + len(part)))


def _continue_list(sent: str, links: list[Link], end: int, role: str, add) -> None:  # type: ignore[no-untyped-def]
    pos = end
    for _ in range(4):
        m = re.match(r"\s*(?:,|and|&)\s*(?:and\s+)?", sent[pos:])
        if not m or not m.group().strip():
            return
        name, ln, new_end = _name_after(sent, pos + m.end(), links)
        if not name or new_end <= pos:
            return
        add(name, ln, role, pos + m.end(), (pos, new_end))
        pos = new_end


# --------------------------------------------------------------------------- press releases

def _domain_name(url: str) -> str:
    host = host_of(url)
    parts = host.split(".")
    if len(parts) >= 3 and parts[-2] in ("co", "com", "ac", "or", "ne", "go"):
        label = parts[-3]
    elif len(parts) >= 2:
        label = parts[-2]
    else:
        label = host
    if label in ("global", "corporate", "www") and len(parts) >= 2:
        label = parts[-1]
    return " ".join(w.capitalize() for w in re.split(r"[-_]", label) if w)


_ANCHOR_PRESS = re.compile(
    r"press release|news release|press statement|pressemitteilung|communiqué|"
    r"^(?:the\s+|a\s+|an\s+|its\s+|their\s+|[\w-]+['’]s?\s+)?(?:official\s+|formal\s+|"
    r"short\s+|brief\s+|joint\s+|written\s+)?(?:statement|announcement|release|news|press)$",
    re.I)
_LISTING_ANCHORS = frozenset({"press releases", "press", "news", "media", "newsroom",
                              "press room", "pressroom", "all press releases", "news releases",
                              "pressemitteilungen", "presse", "communiqués"})
_PRESS_GATE = ("press", "news", "release", "statement", "announce", "media", "communiqu",
               "mitteilung", "wire", "investor")
_NOT_PRESS_HOSTS = ("archive.org", "wikipedia.org", "google.com", "youtube.com", "twitter.com",
                    "x.com", "facebook.com", "instagram.com", "linkedin.com", "amazon.com")


def _press_releases(sent: str, links: list[Link], used: set[str], order: int, offset: int,
                    page_host: str, context: str = "", org: str | None = None,
                    persons: set[str] | None = None) -> list[Found]:
    rows: list[Found] = []
    wording: bool | None = None
    for ln in links:
        if not ln.href or ln.href in used or ln.end <= ln.start:
            continue
        if not any(w in ln.href.lower() or w in ln.text.lower() for w in _PRESS_GATE):
            continue
        try:
            path = urlsplit(ln.href).path
        except ValueError:
            continue
        host = host_of(ln.href)
        if host.endswith(_OUTLET_HOSTS) or host.endswith(_NOT_PRESS_HOSTS):
            continue
        if ln.text.casefold().strip() in _LISTING_ANCHORS:
            continue  # "Press releases" in a menu or category line is a listing, not a release
        anchor = bool(_ANCHOR_PRESS.search(ln.text))
        strong = bool(_PRESS_URL.search(path)) or host.endswith(_PRESS_HOSTS)
        if strong:
            if wording is None:
                wording = bool(_PRESS_WORDS.search(sent))
            if not (wording or anchor):
                continue
        elif not anchor or not _NEWS_URL.search(path) and not re.search(
                r"press release|news release|pressemitteilung|communiqué", sent + ln.text,
                re.I):
            continue
        name = _press_name(sent, ln, context, org)
        # A one-word name that is also a person's surname ("Takeshi Norikawa") is still the
        # company when the release is on the company's own domain (norikawa.example).
        own_domain = name.casefold() in {t.casefold() for t in _domain_name(ln.href).split()}
        if not name or (name != org and persons and not own_domain and any(
                name.casefold() == p.split()[-1] or name.casefold() == p for p in persons if p)):
            continue
        rows.append(Found("press_release", name, ln.href, None, clean_space(sent),
                          (order, offset + ln.start)))
        used.add(ln.href)
    return rows


def _press_name(sent: str, ln: Link, context: str = "", org: str | None = None) -> str:
    host = host_of(ln.href or "")
    dom = "" if re.fullmatch(r"[\d.:]+|localhost|\[.*\]", host) else _domain_name(ln.href or "")
    dom_tokens = {t.lower() for t in dom.split()}
    candidates: list[str] = []
    text = ln.text
    if text and not re.search(r"\d|press release|statement|announce|here|this|release|official|"
                              r"news|\bpage\b|website|site\b|presse|mitteilung|communiqu|"
                              r"\bread\b|\bmore\b|\bdetails\b|\blaunch|\bspec", text, re.I):
        candidates.append(tidy_name(text))
    lead = NAME_AFTER.match(text or "")
    if lead and lead.group("name") != text and not re.search(r"\d", lead.group("name")):
        candidates.append(tidy_name(lead.group("name")))
    m = re.match(r"(?P<name>.+?)['’]s?\s+(?:official\s+)?(?:press release|statement|"
                 r"announcement)", text or "")
    if m:
        candidates.insert(0, tidy_name(m.group("name")))
    for m in _PR_FROM.finditer(sent):
        candidates.append(tidy_name(m.group("name")))
    for m in _PR_MAKER.finditer(sent):
        candidates.append(tidy_name(m.group("name")))  # "Kestrel's first lens"
    for m in _PR_SUBJECT.finditer(sent):
        nm = m.group("name")
        toks = nm.split()
        if toks and toks[0].lower() in _SENTENCE_STARTERS | {"the", "in", "a", "its"}:
            nm = " ".join(toks[1:])
        candidates.append(tidy_name(nm))
    if re.search(r"\b(?:the|its|their)\s+(?:company|firm|maker|manufacturer|brand)|"
                 r"\bdes\s+herstellers|\bdu\s+fabricant", sent, re.I) and org:
        candidates.append(org)
    if not candidates:
        for m in _PR_SUBJECT.finditer(context[-400:]):
            candidates.append(tidy_name(m.group("name")))
    good = [c for c in candidates if plausible_name(c) and not looks_like_person(c)
            and c.split()[0].lower() not in _SENTENCE_STARTERS | {"the", "a", "an", "in"}]
    if org:
        for c in good:
            if org.casefold().startswith(c.casefold()):
                return org  # "Kestrel's official announcement" -> "Kestrel Optics"
    for c in good:
        if {t.lower() for t in c.split()} & dom_tokens:
            return c
    if good:
        return good[0]
    return dom or (org or "")
