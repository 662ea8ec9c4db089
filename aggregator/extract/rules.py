"""Per-site rules (models.SiteRule): which apply to a URL, and their CSS selectors run on a tree."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.cssselect import CSSSelector, SelectorError
from lxml.html import HtmlElement

from aggregator.models import SiteRule


def _host_path(url: str) -> tuple[str, str, str]:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        netloc = parts.netloc.lower().rsplit("@", 1)[-1]
    except ValueError:
        return "", "", ""
    return host.removeprefix("www."), netloc.removeprefix("www."), parts.path or "/"


def rule_matches(rule: SiteRule, url: str) -> bool:
    """match is "host" or "host/path-prefix"; a host also matches its subdomains."""
    host, netloc, path = _host_path(url)
    if not host:
        return False
    match = rule.match.strip().lower()
    for scheme in ("https://", "http://"):
        match = match.removeprefix(scheme)
    want_host, _, prefix = match.partition("/")
    want_host = want_host.removeprefix("www.")
    host_ok = want_host in (host, netloc) or host.endswith("." + want_host)
    if not host_ok:
        return False
    if not prefix:
        return True
    prefix = "/" + prefix
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def matching_rules(rules: Sequence[SiteRule], url: str) -> list[SiteRule]:
    return [r for r in rules if rule_matches(r, url)]


@lru_cache(maxsize=512)
def _compiled(selector: str) -> CSSSelector | None:
    try:
        return CSSSelector(selector, translator="html")
    except (SelectorError, ValueError, TypeError):
        return None


def select(root: HtmlElement, selectors: Sequence[str]) -> list[HtmlElement]:
    """Elements matched by any of the selectors, in document order, without duplicates."""
    found: list[HtmlElement] = []
    seen: set[HtmlElement] = set()
    for selector in selectors:
        compiled = _compiled(selector)
        if compiled is None:
            continue
        try:
            matches = compiled(root)
        except Exception:  # noqa: BLE001 - a broken selector never stops extraction
            continue
        for el in matches:
            if el not in seen:
                seen.add(el)
                found.append(el)
    return found
