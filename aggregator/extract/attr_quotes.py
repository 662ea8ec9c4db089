"""Quotations and their speakers, attributed before or after the quote marks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aggregator.extract.attr_sources import Found
from aggregator.extract.attr_text import (
    CORP_WORDS,
    NOT_NAMES,
    PRONOUNS,
    Block,
    _words,
    clean_space,
    looks_like_person,
    sentences,
)

_VERBS = (
    r"said|says|say|added|adds|explained|explains|noted|notes|stated|states|wrote|writes|"
    r"commented|comments|remarked|continued|continues|insisted|insists|argued|argues|claimed|"
    r"claims|asked|asks|replied|replies|recalled|recalls|admitted|admits|acknowledged|"
    r"acknowledges|warned|warns|confirmed|confirms|announced|emphasi[sz]ed|emphasi[sz]es|"
    r"concluded|concludes|tweeted|posted|told|tells|put it|puts it|observed|observes|"
    r"suggested|suggests|pointed out|points out|stressed|stresses|joked|jokes|added that|"
    r"predicted|predicts|described|describes|boasted|promised|promises|revealed|reveals|"
    r"went on|goes on|responded|responds|shared|shares|declared|declares|agreed|agrees|"
    r"called it|calls it|described it as|describes it as|dubbed it|"
    r"sagte|sagt|erklärte|erklärt|betonte|betont|meinte|meint|a déclaré|a dit|"
    r"a expliqué|explique|déclare|ajoute|a ajouté|a confié|a reconnu|reconnaît|a admis|"
    r"admet|a affirmé|affirme|a souligné|souligne|a précisé|précise|a indiqué|indique|"
    r"a estimé|estime|a assuré|assure|a confirmé|a annoncé|a répondu|répond"
)
# verbs that may come before the speaker ("said Harsch"); "told X" names the listener
_VERBS_FIRST = "|".join(v for v in _VERBS.split("|") if v not in ("told", "tells"))
_ROLE_WORDS = _words("""ceo cto cfo coo cmo president vice chairman chairwoman chair founder
co-founder cofounder manager director head chief officer spokesperson spokesman spokeswoman
engineer photographer designer analyst editor editor-in-chief vp svp evp lead executive
planner reviewer ambassador owner boss general senior product marketing representative rep
professor researcher curator partner principal technician specialist developer architect
leader coordinator commissioner minister secretary adviser advisor consultant expert
correspondent reporter columnist writer author creator artist member chairperson sprecher
sprecherin gründer gründerin geschäftsführer geschäftsführerin chef leiter leiterin fondateur
fondatrice directeur directrice président présidente porte-parole""")

_ABBR = r"(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Mme|Messrs)\."
_NAME_TOK = rf"(?:{_ABBR}|[A-Z]\.|[A-Z][\w'’-]*(?:\.[A-Za-z][\w'’-]*)*)"
_NAME = rf"{_NAME_TOK}(?:[ \t]+(?:{_NAME_TOK}|de|van|von|da|der|le|la|del|di|du|bin|al)){{0,5}}"
# a phrase naming a speaker, possibly with title words: "Leica Camera CEO Matthias Harsch"
_WHO_TOK = rf"(?:{_ABBR}|[A-Z]\.|[A-Za-z][\w'’&-]*(?:\.[A-Za-z][\w'’&-]*)*)"
_WHO = rf"(?:{_WHO_TOK}(?:[ \t]+{_WHO_TOK}){{0,9}}?)"

_OPEN_CLOSE = {"“": "”", "„": "“", "«": "»", "\"": "\"", "‘": "’", "‹": "›", "»": "«"}


@dataclass
class QSpan:
    start: int  # index of the opening mark
    end: int  # index after the closing mark (or len(text) when unclosed)
    text: str
    closed: bool


_QCHARS = re.compile("[“„«\"‘‹»]")


def quote_spans(text: str) -> list[QSpan]:
    """Quotations in a block of text, in order."""
    spans: list[QSpan] = []
    n = len(text)
    m = _QCHARS.search(text)
    if m is None:
        return spans
    i = m.start()
    while i < n:
        m = _QCHARS.search(text, i)
        if m is None:
            break
        i = m.start()
        ch = text[i]
        if ch in _OPEN_CLOSE and _opens(text, i):
            close = _OPEN_CLOSE[ch]
            j = i + 1
            while j < n:
                j = text.find(close, j)
                if j < 0:
                    j = n
                    break
                if ch != "‘" or _closes_single(text, j):
                    break
                j += 1
            inner = text[i + 1:j]
            closed = j < n
            if ch == "‘" and (not closed or len(inner.split()) < 4):
                i += 1
                continue
            if ch == "»" and not closed:
                i += 1
                continue
            spans.append(QSpan(i, j + 1 if closed else n, inner.strip(), closed))
            i = j + 1
            continue
        i += 1
    return spans


def _opens(text: str, i: int) -> bool:
    ch = text[i]
    prev = text[i - 1] if i > 0 else " "
    nxt = text[i + 1] if i + 1 < len(text) else " "
    if nxt.isspace() and ch in "\"‘":
        return False
    if ch in "\"‘":
        return not prev.isalnum()
    return True


def _closes_single(text: str, j: int) -> bool:
    nxt = text[j + 1] if j + 1 < len(text) else " "
    return not nxt.isalpha()


# ---------------------------------------------------------------------------- attribution

_AFTER_SAID_WHO = re.compile(
    rf"^[\s,;:—–-]*(?:{_VERBS_FIRST})\s+(?P<who>{_WHO})"
    r"(?=\s*(?:[,.;:!?)\n]|$|\s+(?:in|on|at|during|last|this|to|when|while|about|of|after|"
    r"before|via|from|earlier|later|recently|yesterday|today|as|who|with|au|à|aux|dans|"
    r"gegenüber|im|am)\b))")
_AFTER_WHO_SAID = re.compile(
    rf"^[\s,;:—–-]*(?P<who>{_WHO})(?:,\s*(?P<role>[^,“”\"]{{2,90}}),)?\s+"
    rf"(?:(?:later|also|then|further|simply|recently|previously|once|has|had|had\s+previously)"
    rf"\s+)?(?:{_VERBS})\b")
_AFTER_ACCORDING = re.compile(rf"^[\s,;:—–-]*according to\s+(?P<who>{_WHO})"
                              r"(?=\s*(?:[,.;:!?)\n]|$))")
_AFTER_DASH = re.compile(rf"^\s*[—–-]{{1,2}}\s*(?P<who>{_NAME})(?:,\s*(?P<role>[^.\n]{{2,90}}))?"
                         r"\s*$")
_BEFORE_SAID_WHO = re.compile(
    rf"\b(?:{_VERBS_FIRST})\s+(?P<who>{_WHO})(?:,\s*(?P<role>[^,“”\"]{{2,90}}))?[,:]\s*$")
_BEFORE_QUOTES_AS = re.compile(
    rf"\bquot(?:es|ed|ing)\s+(?P<who>{_WHO})\s+as\s+say(?:ing|s)\b[^“”\"„«]{{0,80}}$")
_BEFORE_AS = re.compile(rf"\b(?:as|in the words of)\s+(?P<who>{_WHO})\s*(?:(?:{_VERBS})"
                        r"\b[^“”\"]{0,30})?[,:]\s*$", re.I)


PRONOUN = "\x00pronoun"  # "he said" before anyone was named
THE_COMPANY = "\x00company"  # "the company said"


@dataclass
class Speaker:
    name: str
    role: str | None


def _tokens(phrase: str) -> list[str]:
    return phrase.split()


def _is_role(tok: str) -> bool:
    t = re.sub(r"['’]s$", "", tok.lower().strip(",.()"))
    return t in _ROLE_WORDS or t.split("-")[-1] in _ROLE_WORDS


def parse_speaker(who: str, role: str | None, known: list[Speaker]) -> Speaker | None:
    """Split "Leica Camera CEO Matthias Harsch" into name and role; resolve pronouns."""
    who = clean_space(who).strip(" ,;:.")
    if role:
        role = clean_space(role).strip(" ,;:.")
        if re.match(r"(?:who|which|that|when|while|as|and|but|adding)\b", role, re.I):
            role = None
    low = who.lower()
    if low in ("he", "she", "they", "he also", "she also", "il", "elle", "er", "sie"):
        return Speaker(PRONOUN, None)  # resolved by the caller, who knows the context
    toks = _tokens(who)
    if not toks:
        return None
    if re.fullmatch(r"(?:the|The) (?:company|firm|maker|manufacturer|brand|camera maker|"
                    r"lens maker)", who):
        return Speaker(THE_COMPANY, role)
    if toks[0].lower() in ("a", "an", "the", "one") and len(toks) >= 2:
        # "a Sony spokesperson", "the company's CEO", "a spokesperson for Sony"
        return _anonymous(toks)
    # find the last title word: name follows it
    last_role = -1
    for i, t in enumerate(toks):
        if _is_role(t):
            last_role = i
    if last_role == len(toks) - 1:
        return None  # "the CEO", "Sony product manager": no name
    if last_role < 0:
        for i, t in enumerate(toks[:-1]):
            if re.search(r"['’]s$", t):
                last_role = i  # "Ricoh Imaging's Hiroki Tanaka"
    if last_role >= 0:
        name_toks = toks[last_role + 1:]
        title = " ".join(toks[:last_role + 1])
        title = re.sub(r"['’]s$", "", title) if not _is_role(toks[last_role]) else title
        if all(_cap(t) for t in name_toks) and len(name_toks) <= 4:
            return _resolve(Speaker(" ".join(name_toks), role or title), known)
        return None
    if not all(_cap(t) or t in ("de", "van", "von", "da", "der", "le") for t in toks):
        # "Sugimoto's colleague Hiroshi Ota" was handled above; here take a trailing
        # run of two or more capitalised words as the name
        run: list[str] = []
        for t in reversed(toks):
            if not _cap(t):
                break
            run.insert(0, t)
        if len(run) >= 2 and len(run) <= 4 and not any(t.lower() in CORP_WORDS for t in run):
            rest = toks[:len(toks) - len(run)]
            if rest and rest[-1].lower() in ("and", "or", "by", "with", "to", "from"):
                return None
            return _resolve(Speaker(" ".join(run), role or " ".join(rest) or None), known)
        return None
    if len(toks) > 5:
        return None
    if low in NOT_NAMES or toks[0].lower() in PRONOUNS or toks[0].lower() in NOT_NAMES:
        return None
    return _resolve(Speaker(who, role), known)


def _anonymous(toks: list[str]) -> Speaker | None:
    caps = [t for t in toks[1:] if _cap(t) and not _is_role(t)]
    roles = [t for t in toks if _is_role(t)]
    if caps and roles and roles[-1].lower() in ("spokesperson", "spokesman", "spokeswoman",
                                                "representative", "rep"):
        org = " ".join(caps)
        org = re.sub(r"['’]s$", "", org)
        return Speaker(org, roles[-1].lower())
    return None


def _cap(tok: str) -> bool:
    tok = tok.strip("(),.'’")
    return bool(tok) and (tok[0].isupper() or tok[0].isdigit())


_HONORIFIC = re.compile(
    r"^(?P<title>(?:(?:Former|Acting|Deputy|Vice)\s+)?(?:Senator|Sen\.|Rep\.|Representative|"
    r"Gov\.|Governor|President|Prime Minister|Minister|Secretary|Mayor|Judge|Dr\.?|Mr\.?|"
    r"Mrs\.?|Ms\.?|Prof\.?|Professor|Sir|Dame|Chancellor|General|Gen\.|Detective|Officer|"
    r"Sgt\.|Captain|Capt\.|Father|Rabbi|Bishop|Herr|Frau|Monsieur|Madame|Mme\.?))\s+"
    r"(?P<rest>[A-Z].*)$")


def _resolve(sp: Speaker, known: list[Speaker]) -> Speaker:
    """A surname alone becomes the full name seen earlier; "Senator Mark Warner" is Mark
    Warner with the title kept as the role."""
    m = _HONORIFIC.match(sp.name)
    if m:
        title = m.group("title")
        courtesy = title.rstrip(".") in ("Mr", "Mrs", "Ms", "Herr", "Frau", "Monsieur", "Madame",
                                         "Mme", "Sir", "Dame")
        sp = Speaker(m.group("rest"), sp.role or (None if courtesy else title))
    if " " not in sp.name:
        for k in reversed(known):
            if k.name.split()[-1] == sp.name and " " in k.name:
                return Speaker(k.name, sp.role or k.role)
    if sp.role is None:
        for k in reversed(known):
            if k.name == sp.name:
                return Speaker(sp.name, k.role)
    return sp


_PLACE_WORDS = _words("""school college university institute center centre council party
democrat democrats republican republicans committee department ministry house senate congress
court police army street avenue states city county province republic kingdom union""")
_BAD_SPEAKER = _words("""i others other some many most few several everyone everybody someone
somebody nobody people dr mr mrs ms prof sir feel don’t don't it’s it's that’s that's
there’s there's let’s let's accordingly ah oh well yes no okay ok hey please thanks""")


def _valid_name(name: str) -> bool:
    low = name.lower()
    if low in NOT_NAMES or low in PRONOUNS or low in _BAD_SPEAKER:
        return False
    toks = name.split()
    if any(t.lower() in ("said", "says", "told") for t in toks):
        return False
    if re.search(r"--|[’']t\b|^@|\d|['’]s$", name) or toks[0].lower() in _BAD_SPEAKER:
        return False
    if any(t.lower() in _PLACE_WORDS for t in toks):
        return False
    return 1 <= len(toks) <= 5


def _attribute_after(rest: str, known: list[Speaker]) -> Speaker | None:
    rest = rest[:220]
    m = _AFTER_DASH.match(rest.split("\n")[0]) if rest.lstrip()[:1] in "—–-" else None
    if m:
        return parse_speaker(m.group("who"), m.group("role"), known)
    m = _AFTER_SAID_WHO.match(rest)
    if m:
        who = m.group("who")
        role = None
        tail = rest[m.end():]
        rm = re.match(r"\s*,\s*(?P<role>(?:the\s+|a\s+|an\s+)?[^,.;“”\"]{2,90}?)\s*(?:[,.;]|$)",
                      tail)
        if rm and not re.match(r"(?:who|which|that|when|while|as|adding|and|but)\b",
                               rm.group("role"), re.I):
            role = rm.group("role")
        sp = parse_speaker(who, role, known)
        if sp:
            return sp
    m = _AFTER_WHO_SAID.match(rest)
    if m:
        sp = parse_speaker(m.group("who"), m.group("role"), known)
        if sp is None and m.group("role"):
            sp = parse_speaker(m.group("role"), m.group("who"), known)
        return sp
    m = _AFTER_ACCORDING.match(rest)
    if m:
        return parse_speaker(m.group("who"), None, known)
    return None


_VERB_RE = re.compile(rf"\b(?:{_VERBS})\b")
_ADVERBS = re.compile(r"(?:\s+(?:later|also|then|once|has|had|have|simply|recently|previously|"
                      r"further|has\s+previously))+\s*$")


def _who_before(before: str) -> tuple[str, str | None]:
    """The speaker phrase that ends ``before`` (the text right before a speech verb):
    the last clause, with an appositive role between commas split off."""
    w = _ADVERBS.sub("", before.rstrip())
    role = None
    if w.endswith(","):
        w = w[:-1]
        idx = w.rfind(",")
        if idx >= 0 and len(w) - idx <= 92 and not re.search(r"[“”\"]", w[idx:]):
            role = w[idx + 1:].strip()
            w = w[:idx]
    clause = re.split(r"[,;:(“”\"„«]|[.!?]\s", w)[-1].strip()
    toks = clause.split()[-10:]
    return " ".join(toks), role


def _attribute_before(head: str, known: list[Speaker]) -> Speaker | None:
    head = head[-260:]
    spans = sentences(head)
    if spans and spans[-1][1] >= len(head.rstrip()) - 1:
        head = head[spans[-1][0]:]
    sp = _attribute_participle(head, known)
    if sp is not None:
        return sp
    m = _ACCORDING_LEAD.match(head)
    if m:
        sp = parse_speaker(m.group("who"), None, known)
        if sp is not None:
            return sp
    verbs = list(_VERB_RE.finditer(head[-140:]))
    if not verbs:
        return _attribute_as(head, known)
    off = max(0, len(head) - 140)
    m = _BEFORE_SAID_WHO.search(head[verbs[-1].start() + off - 1 if verbs[-1].start() + off
                                     else 0:])
    if m:
        sp = parse_speaker(m.group("who"), m.group("role"), known)
        if sp:
            return sp
    for v in reversed(verbs[-2:]):
        vstart = v.start() + off
        after = head[v.end() + off:]
        if len(after) > 82 or re.search(r"[“”\"„«]|[.!?]\s", after + " "):
            continue  # the verb belongs to an earlier sentence
        if not re.fullmatch(r"[^“”\"„«]*?[,:]?\s*", after):
            continue
        who, role = _who_before(head[:vstart])
        if not who:
            continue
        sp = parse_speaker(_trim_lead(who), role, known)
        if sp:
            return sp
        if role:
            # "Leica's product manager for the Q line, Anna Keller, told ..."
            sp = parse_speaker(role, _trim_lead(who), known)
            if sp:
                return sp
    return _attribute_as(head, known)


_ACCORDING_LEAD = re.compile(rf"^\s*(?:According to|As)\s+(?P<who>{_NAME})\s*"
                             r"(?:put it|puts it|says|said|writes|wrote|notes|noted)?\s*,")
_PARTICIPLE = re.compile(r",\s+(?:saying|adding|noting|explaining|arguing|insisting|warning|"
                         r"stressing|promising|claiming)\b(?:\s+that)?[^“”\"„«]{0,80}$")
_SUBJECT = re.compile(rf"^\s*(?P<who>{_NAME})(?:['’]s\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)?)?"
                      r"\s+(?:has\s+|had\s+|also\s+|then\s+)?[a-z]+(?:ed|s)\b")


def _attribute_participle(head: str, known: list[Speaker]) -> Speaker | None:
    """"Aurel confirmed the price in a statement, saying the lens would arrive “soon”":
    the speaker is the subject of the sentence."""
    if not _PARTICIPLE.search(head):
        return None
    m = _SUBJECT.match(head)
    if not m:
        return None
    return parse_speaker(_trim_lead(m.group("who")), None, known)


def _attribute_as(head: str, known: list[Speaker]) -> Speaker | None:
    if "quot" in head:
        m = _BEFORE_QUOTES_AS.search(head[-200:])
        if m:
            sp = parse_speaker(_trim_lead(m.group("who")), None, known)
            if sp:
                return sp
    if re.search(r"\b(?:as|words of)\b", head[-120:], re.I):
        m = _BEFORE_AS.search(head[-120:])
        if m:
            return parse_speaker(_trim_lead(m.group("who")), None, known)
    return None


_LEAD_WORDS = _words("""and but so then later earlier now also yet still in on at as when
while after before since because though although meanwhile however speaking talking writing
yesterday today accordingly ah oh well yes no finally instead indeed perhaps maybe here there
thus hence again afterwards afterward next""")


def _trim_lead(who: str) -> str:
    toks = who.split()
    while len(toks) > 1 and toks[0].lower() in _LEAD_WORDS:
        toks = toks[1:]
    # "In Tokyo, Harsch" -> handled by the comma split; "Kestrel's Aiko Tanaka" stays
    return " ".join(toks)


_MENTION = re.compile(rf"(?P<who>{_NAME})(?:,\s*(?P<role>[^,“”\"]{{2,90}}),)?\s+(?:{_VERBS})\b")


def _mentions(text: str, known: list[Speaker]) -> None:
    """People named as speaking outside quote marks ("Karbe says the factory ...")."""
    for m in _MENTION.finditer(text):
        who = m.group("who")
        toks = who.split()
        if toks and toks[0].lower() in _LEAD_WORDS | {"the", "a", "an"}:
            who = " ".join(toks[1:])
        if not who:
            continue
        sp = parse_speaker(who, m.group("role"), known)
        if sp and _valid_name(sp.name) and sp.name.lower() not in NOT_NAMES:
            known.append(sp)


_FULLNAME = re.compile(
    r"\b([A-Z][\w'’-]+(?:[ \t]+(?:(?:de|van|von|da)[ \t]+)?[A-Z][\w'’-]+){1,2})\b")


def _full_name(name: str, fullnames: list[str]) -> str:
    toks = name.split()
    if len(toks) == 2 and toks[0].lower() in ("de", "van", "von", "da", "del", "di", "le", "la"):
        # "De Vries" at the start of a sentence is "Anneke de Vries"
        tail = name.lower()
        for full in reversed(fullnames):
            if full.lower().endswith(" " + tail) and len(full.split()) > 2:
                return full
        return name
    if " " in name:
        return name
    counts: dict[str, int] = {}
    for full in fullnames:
        toks = full.split()
        if len(toks) >= 2 and toks[-1] == name and toks[0] != name:
            first = toks[0]
            if first.lower() in NOT_NAMES or first.lower() in _LEAD_WORDS or \
                    _is_role(toks[-2]) or _HONORIFIC.match(full):
                continue
            counts[full] = counts.get(full, 0) + 1
    if counts:
        best = max(counts, key=lambda k: counts[k])  # ties: the first introduced
        return re.sub(r"^(?:The|A|An)\s+", "", best)
    return name


def _dominant_person(fullnames: list[str], context: str) -> str | None:
    """The person the story is about: the full name whose surname recurs most."""
    best, best_n = None, 1
    candidates: list[str] = []
    counts: dict[str, int] = {}
    for w in re.findall(r"[A-Z][\w'’-]+", context):
        counts[w] = counts.get(w, 0) + 1
    for full in dict.fromkeys(fullnames):
        toks = full.split()
        if not 2 <= len(toks) <= 3 or any(t.lower() in CORP_WORDS for t in toks) or \
                toks[0].lower() in NOT_NAMES or toks[0].lower() in _LEAD_WORDS:
            continue
        n = counts.get(toks[-1], 0)
        candidates.append(full)
        if n > best_n:
            best, best_n = full, n
    if best is None and len(candidates) == 1 and looks_like_person(candidates[0]):
        return candidates[0]  # the only person named
    return best


# Where the story states a person's job outside the quote's own attribution: "Mariko Ishida,
# general manager of Kestrel Optics' imaging division, ..." / "Ishida has been general
# manager of ... since 2021."
_ROLE_APPOSITIVE = re.compile(
    rf"(?P<who>{_NAME}),\s+(?P<role>(?:the\s+|a\s+|an\s+)?[^,.;:“”\"()]{{2,90}}?)\s*,")
_ROLE_COPULA = re.compile(
    rf"(?P<who>{_NAME})\s+(?:is|was|has\s+been|had\s+been|became|remains|serves\s+as)\s+"
    rf"(?P<role>(?:the\s+|a\s+|an\s+)?[^,.;:“”\"()]{{2,90}}?)"
    r"(?=\s+(?:since|for|until|from|when|and|who)\b|\s*[,.;:]|$)")


def stated_roles(context: str) -> dict[str, str]:
    """Person -> job as the story states it (first statement wins), for quotes whose own
    attribution gives none. A role must start with a job word ("general manager of ...")."""
    roles: dict[str, str] = {}
    for pattern in (_ROLE_APPOSITIVE, _ROLE_COPULA):
        for m in pattern.finditer(context):
            role = clean_space(m.group("role"))
            toks = [t for t in role.split() if t.lower() not in ("the", "a", "an")]
            if not toks or not any(_is_role(t) for t in toks[:2]):
                continue
            name = m.group("who")
            sp = parse_speaker(name, None, [])
            if sp is None or not _valid_name(sp.name) or " " not in sp.name or (
                    sp.name.lower() in NOT_NAMES) or sp.role:
                continue  # "Kestrel CEO Ana Costa, ..." states its role already
            roles.setdefault(sp.name, role)
    return roles


def find_quotes(blocks: list[Block], context: str = "", org: str | None = None) -> list[Found]:
    """Quote rows from the body blocks, with speakers carried across paragraphs.
    ``context`` is the body's whole text, used to turn a lone surname into a full name;
    ``org`` is the organisation the story is about ("the company said")."""
    found: list[Found] = []
    known: list[Speaker] = []
    fullnames = [m.group(1) for m in _FULLNAME.finditer(context)]
    dominant = _dominant_person(fullnames, context)
    roles = stated_roles(context)
    carry: Speaker | None = None  # speaker whose quote runs on into the next paragraph
    intro: Speaker | None = None  # "X said:" at the end of the previous paragraph
    prev_text = ""
    for block in blocks:
        text = block.text
        spans = quote_spans(text)
        if not spans:
            intro = _intro_speaker(text, known)
            carry = None
            prev_text = text
            continue
        sents = sentences(text)
        assigned: list[Speaker | None] = []
        for k, q in enumerate(spans):
            sp: Speaker | None = None
            after = text[q.end:]
            _mentions(text[spans[k - 1].end if k > 0 else 0:q.start], known)
            nxt = spans[k + 1].start if k + 1 < len(spans) else len(text)
            sp = _attribute_after(text[q.end:nxt] if q.closed else "", known)
            if sp is None:
                head_start = spans[k - 1].end if k > 0 else 0
                sp = _attribute_before(text[head_start:q.start], known)
            if sp is None and k == 0 and q.start <= 1 and (carry or intro):
                sp = carry or intro
            if sp is not None and sp.name == PRONOUN:
                sp = _last_person(prev_text[-400:] + "\n" + text[:q.start], known, fullnames)
            if sp is not None and sp.name not in (PRONOUN, THE_COMPANY):
                known.append(sp)  # "…," he said, "…" later in the same paragraph
            assigned.append(sp)
            del after
        # unattributed full-sentence quotes take the paragraph's only speaker
        speakers = {s.name for s in assigned if s}
        if len(speakers) == 1:
            only = next(s for s in assigned if s)
            for k, q in enumerate(spans):
                if assigned[k] is None and _starts_sentence(text, q.start, sents):
                    assigned[k] = only
        for k, q in enumerate(spans):
            sp = assigned[k]
            if sp is not None and sp.name == THE_COMPANY:
                sp = Speaker(org, sp.role) if org else None
            elif sp is not None and sp.name == PRONOUN:
                sp = Speaker(dominant, None) if dominant else None
            if sp is None or not _valid_name(sp.name) or not q.text:
                continue
            sp = _resolve(Speaker(_full_name(sp.name, fullnames), sp.role), [])
            if sp.role is None:
                sp = Speaker(sp.name, roles.get(sp.name))
            qtext = q.text.strip().rstrip(",")
            if len(qtext.split()) < 3 and not q.closed:
                continue
            if len(qtext.split()) < 2:
                continue
            if not known or known[-1].name != sp.name:
                known.append(sp)
            found.append(Found("quote", sp.name, None, sp.role, qtext, (block.order, q.start)))
        prev_text = text
        last = spans[-1]
        carry = assigned[-1] if not last.closed else None
        intro = _intro_speaker(text[last.end:], known) if last.closed else None
    return found


def _last_person(before: str, known: list[Speaker], fullnames: list[str]) -> Speaker:
    """Whom "he"/"she" refers to. Strong candidates are people named with clear marks (a
    known first name, an appositive role, a speech verb) and earlier speakers; the latest
    of those wins. Failing that, a full name whose surname recurs; then the last speaker."""
    strong: tuple[int, Speaker] | None = None
    weak: tuple[int, Speaker] | None = None
    for m in _FULLNAME.finditer(before):
        name = m.group(1)
        toks = name.split()
        if re.search(r"\b(?:a|an|the)\s+$", before[max(0, m.start() - 5):m.start()]) or \
                not _valid_name(name):
            continue  # "…, a Virginia Democrat" describes someone, it is not a name
        if toks[0].lower() in _LEAD_WORDS or toks[0].lower() in NOT_NAMES or \
                any(t.lower() in CORP_WORDS or t.isupper() or re.search(r"['’]s$|\d", t)
                    for t in toks) or _HONORIFIC.match(name):
            continue
        tail = before[m.end():m.end() + 40]
        if looks_like_person(name) or re.match(r",\s+(?:a|an|the|who)\b", tail) or \
                re.match(r"\s+(?:said|says|told|added|explained|noted|wrote)\b", tail):
            strong = (m.start(), Speaker(name, None))
        elif sum(1 for f in fullnames if f.split()[-1] == toks[-1]) >= 2:
            weak = (m.start(), Speaker(name, None))
    for k in known:
        i = before.rfind(k.name.split()[-1])
        if i >= 0 and (strong is None or i > strong[0]):
            strong = (i, k)
    if strong is not None:
        return strong[1]
    if weak is not None:
        return weak[1]
    return known[-1] if known else Speaker(PRONOUN, None)


def _starts_sentence(text: str, pos: int, sents: list[tuple[int, int]]) -> bool:
    if pos == 0:
        return True
    return any(s == pos for s, _ in sents) or text[:pos].rstrip().endswith((".", "!", "?", ":"))


_INTRO2 = re.compile(rf"\b(?:{_VERBS_FIRST})\s+(?P<who>{_WHO})"
                     r"(?:,\s*(?P<role>[^,“”\"]{2,90}))?:\s*$")


def _intro_speaker(text: str, known: list[Speaker]) -> Speaker | None:
    """"Harsch said:" at the end of a paragraph introduces the next one."""
    text = text.strip()[-240:]
    if not text.endswith(":"):
        return None
    verbs = list(_VERB_RE.finditer(text))
    if not verbs:
        return None
    v = verbs[-1]
    m = _INTRO2.search(text[v.start():])
    if m:
        sp = parse_speaker(_trim_lead(m.group("who")), m.group("role"), known)
        if sp:
            return sp
    if len(text) - v.end() > 62 or re.search(r"[.“”\"]", text[v.end():]):
        return None
    who, role = _who_before(text[:v.start()])
    return parse_speaker(_trim_lead(who), role, known) if who else None


def blockquote_speaker(text: str, known: list[Speaker]) -> tuple[Speaker | None, str]:
    """A block quotation signed at its end ("— Name, Title")."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return None, text
    m = _AFTER_DASH.match(lines[-1])
    if m and len(lines) > 1:
        return parse_speaker(m.group("who"), m.group("role"), known), "\n".join(lines[:-1])
    return None, text


__all__ = ["find_quotes", "quote_spans", "parse_speaker", "Speaker", "CORP_WORDS"]
