"""Canonical URL forms: one string per article page, whatever link we reached it by.

``canonical_url(url)`` is total (it never raises) and idempotent
(``canonical_url(canonical_url(u)) == canonical_url(u)``). What it does, in order:

- scheme and host lower-cased; the host converted to ASCII (IDNA / UTS 46, so
  ``Fotoblog-Müller.de`` and ``xn--fotoblog-mller-psb.de`` are one host); a trailing dot dropped;
  user info dropped; the default port (80 for http, 443 for https) dropped;
- mobile and AMP hosts: a leading ``m.``, ``mobile.``, ``amp.`` or ``www.`` label is removed
  (``m.example.com``, ``www.example.com`` and ``example.com`` are all ``example.com``), but
  never below the registrable domain (``m.co.uk`` stays). We chose the www-less host because it
  is the one form every variant can be mapped to without knowing the site;
- Google AMP cache addresses (``*.cdn.ampproject.org/c/s/host/path``) are mapped back to the
  publisher's URL;
- the path: dot segments resolved, percent-encoding normalised (unreserved characters decoded,
  other escapes upper-cased, spaces and non-ASCII encoded as UTF-8), AMP segments removed
  (``/amp/`` anywhere, a trailing ``/amp``, ``.amp`` before the extension, ``.amp`` at the end),
  a trailing slash removed (except the root ``/``), an empty path becomes ``/``;
- the query: tracking parameters removed (names compared case-insensitively; a pattern ending
  in ``*`` or ``_`` matches a prefix, so ``utm_*`` and ``utm_`` both match ``utm_source``),
  AMP switches removed (``amp``, ``amp=1``, ``amp=true``, ``outputType=amp``, ``_amp=...``),
  the remaining pairs sorted by name (stable, so repeated names keep their order), and an
  empty query removed;
- the fragment dropped.

``choose_canonical(page_url, declared)`` picks the article's canonical URL: the declared
``rel=canonical`` / ``og:url`` when it stays on the same registrable site as the page, else
the page URL; both in canonical form.

The "registrable site" is the host's last two labels, or three under a known two-label
public suffix (``co.uk``, ``com.au``, ``co.jp``, ...; a short built-in list, not the full
Public Suffix List). For IP addresses and ``localhost`` (where our fixture server serves several
sites under path prefixes) the site is host, port and first path segment.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import idna

__all__ = [
    "DEFAULT_TRACKING_PARAMS",
    "canonical_url",
    "choose_canonical",
    "declared_aliases",
    "is_tracking_param",
    "registrable_site",
]

#: Query parameters that only say how a reader arrived; removed from canonical URLs.
#: A trailing ``*`` (or ``_``) makes the entry a prefix pattern.
DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*", "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
    "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "mkt_tok",
    "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "_ga", "_gl",
    "ref", "ref_src", "ref_url", "referrer", "spm", "scm", "cmpid", "icid", "ito",
    "ncid", "sr_share", "s_cid", "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id",
    "rb_clickid", "wt.mc_id", "wt_mc_id", "at_medium", "at_campaign", "ocid", "soc_src",
    "soc_trk",
)

# AMP switches in the query: name -> values that mean "the AMP page" (empty set: any value).
_AMP_QUERY: dict[str, frozenset[str]] = {
    "amp": frozenset(),
    "_amp": frozenset(),
    "outputtype": frozenset({"amp"}),
    "output": frozenset({"amp"}),
    "format": frozenset({"amp"}),
    "view": frozenset({"amp"}),
}

_HOST_PREFIXES = ("www", "m", "mobile", "amp")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Two-label public suffixes we know; enough for news sites. Not the full PSL (a known gap).
_TWO_LABEL_SUFFIXES = frozenset({
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au",
    "co.nz", "net.nz", "org.nz",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp",
    "co.kr", "or.kr", "com.cn", "net.cn", "org.cn", "com.hk", "com.tw", "com.sg",
    "co.in", "net.in", "org.in", "com.br", "com.ar", "com.mx", "co.za", "com.tr",
    "com.pl", "com.ua", "co.il", "com.my", "co.id", "co.th", "com.vn", "com.ph",
    "github.io", "blogspot.com", "wordpress.com", "substack.com", "medium.com",
})

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left as they are in a path (besides unreserved and escapes).
_PATH_SAFE = frozenset("!$&'()*+,;=:@/")
# In a query component '&', '=' and '+' keep their form-encoding meaning; '/', '?' are allowed.
_QUERY_SAFE = frozenset("!$'()*+,;:@/?")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def is_tracking_param(name: str, tracking_params: Sequence[str] = DEFAULT_TRACKING_PARAMS) -> bool:
    """True when ``name`` matches one of the patterns (case-insensitive; ``*``/``_`` = prefix)."""
    low = name.lower()
    for pattern in tracking_params:
        pat = pattern.lower()
        if pat.endswith("*"):
            if low.startswith(pat[:-1]):
                return True
        elif pat.endswith("_") and len(pat) > 1:
            if low.startswith(pat):
                return True
        elif low == pat:
            return True
    return False


@lru_cache(maxsize=16)
def _plain(safe: frozenset[str]) -> re.Pattern[str]:
    """Matches text made only of unreserved and ``safe`` characters (nothing to encode)."""
    chars = "".join(sorted(_UNRESERVED | safe))
    return re.compile(f"[{re.escape(chars)}]*\\Z")


def _normalise_component(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, encode the rest."""
    if _plain(safe).match(text):
        return text  # the common case: nothing to change
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and _ESCAPE.match(text, i):
            value = int(text[i + 1:i + 3], 16)
            decoded = chr(value)
            out.append(decoded if decoded in _UNRESERVED else f"%{value:02X}")
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _ascii_host(host: str) -> str:
    host = host.strip().rstrip(".").strip().lower()
    if not host or host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return _normalise_component(host, frozenset()).lower()


def _is_ip(host: str) -> bool:
    if ":" not in host and not host.replace(".", "").isdigit():
        return False  # fast path: IPv4 is digits and dots, IPv6 holds a colon
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _registrable_domain(host: str) -> str:
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _strip_host_prefix(host: str) -> str:
    if _is_ip(host) or "." not in host:
        return host
    registrable = _registrable_domain(host)
    while True:
        first, _, rest = host.partition(".")
        if first in _HOST_PREFIXES and len(rest) >= len(registrable) and "." in rest:
            host = rest
        else:
            return host


def _clean_path(path: str) -> str:
    path = _normalise_component(path, _PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    path = posixpath.normpath(path)
    if path.startswith("//"):  # normpath keeps a leading '//'
        path = "/" + path.lstrip("/")
    segments = [s for s in path.split("/") if s]
    segments = [s for s in segments if s.lower() != "amp"]
    if segments:
        last = segments[-1]
        low = last.lower()
        if low.endswith(".amp"):
            segments[-1] = last[:-4]
        elif ".amp." in low:
            idx = low.rindex(".amp.")
            segments[-1] = last[:idx] + last[idx + 4:]
        segments = [s for s in segments if s]
    return "/" + "/".join(segments)


def _is_amp_switch(name: str, value: str) -> bool:
    values = _AMP_QUERY.get(name.lower())
    if values is None:
        return False
    return not values or value.lower() in values


def _clean_query(query: str, tracking_params: Sequence[str]) -> str:
    if not query:
        return ""
    pairs: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = _normalise_component(name, _QUERY_SAFE)
        value = _normalise_component(value, _QUERY_SAFE | {"="})
        decoded_name = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name).replace("+", " ")
        if is_tracking_param(decoded_name, tracking_params):
            continue
        if _is_amp_switch(decoded_name, value):
            continue
        pairs.append((name, value if eq else None))
    pairs.sort(key=lambda p: p[0])
    return "&".join(name if value is None else f"{name}={value}" for name, value in pairs)


def _from_amp_cache(parts: SplitResult) -> SplitResult | None:
    """``https://example-com.cdn.ampproject.org/c/s/example.com/a`` -> ``https://example.com/a``."""
    if not parts.hostname or not parts.hostname.endswith(".cdn.ampproject.org"):
        return None
    match = re.match(r"^/(?:c|v|i)(/s)?/([^/]+)(/.*)?$", parts.path)
    if not match:
        return None
    scheme = "https" if match.group(1) else "http"
    return urlsplit(f"{scheme}://{match.group(2)}{match.group(3) or '/'}"
                    + (f"?{parts.query}" if parts.query else ""))


@lru_cache(maxsize=4096)
def _canonical_host(hostname: str) -> str:
    host = _strip_host_prefix(_ascii_host(hostname))
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    return host


def canonical_url(url: str, *, tracking_params: Sequence[str] = DEFAULT_TRACKING_PARAMS) -> str:
    """The canonical form of ``url`` (see the module docstring). Never raises."""
    if isinstance(tracking_params, tuple):  # hashable: the same URL is often asked twice
        return _canonical_url_cached(url, tracking_params)
    return _canonical_url(url, tracking_params)


@lru_cache(maxsize=2048)
def _canonical_url_cached(url: str, tracking_params: tuple[str, ...]) -> str:
    return _canonical_url(url, tracking_params)


def _canonical_url(url: str, tracking_params: Sequence[str]) -> str:
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        # Not a web address we normalise; only the scheme's case and the fragment change.
        if not scheme:
            return text
        head, sep, rest = text.partition(":")
        if head.lower() == scheme:
            return (scheme + sep + rest.split("#", 1)[0]).rstrip()
        return text.split("#", 1)[0].rstrip()
    amp = _from_amp_cache(parts)
    if amp is not None:
        parts = amp
    try:
        port = parts.port
    except ValueError:
        port = None
    host = _canonical_host(parts.hostname or "")
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    path = _clean_path(parts.path)
    query = _clean_query(parts.query, tracking_params)
    return urlunsplit((scheme, netloc, path, query, ""))


def registrable_site(url: str) -> str:
    """The site a URL belongs to, for "same site" checks (see the module docstring)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    host = _ascii_host(parts.hostname or "")
    if not host:
        return ""
    if _is_ip(host) or host == "localhost" or "." not in host:
        first = next((s for s in parts.path.split("/") if s), "")
        return f"{host}:{port or _DEFAULT_PORTS.get(parts.scheme.lower(), '')}/{first}"
    return _registrable_domain(host)


def choose_canonical(page_url: str, declared: str | None, *,
                     tracking_params: Sequence[str] = DEFAULT_TRACKING_PARAMS) -> str:
    """The article's canonical URL: ``declared`` (rel=canonical / og:url, may be relative)
    when it is an http(s) URL on the same registrable site as ``page_url``; else the page URL.
    Both results are in canonical form."""
    page = canonical_url(page_url, tracking_params=tracking_params)
    if not declared or not declared.strip():
        return page
    try:
        absolute = urljoin(page_url.strip(), declared.strip())
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return page
    if scheme not in ("http", "https"):
        return page
    if registrable_site(absolute) != registrable_site(page_url) or not registrable_site(page_url):
        return page
    return canonical_url(absolute, tracking_params=tracking_params)


def declared_aliases(page_url: str, declared: str | None, *,
                     tracking_params: Sequence[str] = DEFAULT_TRACKING_PARAMS) -> tuple[str, ...]:
    """Other URLs of the same article that the page declares (its ``amphtml`` link), as
    given and in canonical form; only http(s) URLs on the page's own registrable site (a
    page cannot claim another site's URLs)."""
    if not declared or not declared.strip():
        return ()
    try:
        absolute = urljoin(page_url.strip(), declared.strip())
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return ()
    site = registrable_site(page_url)
    if scheme not in ("http", "https") or not site or registrable_site(absolute) != site:
        return ()
    return tuple(dict.fromkeys((absolute, canonical_url(absolute,
                                                        tracking_params=tracking_params))))
