"""Follow citations through stored articles: from a blog post to the magazine story it cites
to the press release that story covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aggregator.dedup.urls import canonical_url
from aggregator.store.db import Store

#: Attribution kinds whose URLs can lead to another stored article.
CITING_KINDS = ("source", "press_release")
MAX_DEPTH = 12


@dataclass
class TraceNode:
    """One stored article in a citation chain, with the citations that lead on from it."""

    article_id: int
    title: str
    source: str | None
    url: str
    published: str | None
    via: dict | None = None  # the attribution of the parent that led here
    cites: list[TraceNode] = field(default_factory=list)
    unresolved: list[dict] = field(default_factory=list)  # cited, but not stored here

    def earliest_origin(self) -> TraceNode:
        """The chain end published first (undated ones last; on a tie, the lowest id)."""
        return min(self.origins(), key=lambda n: (n.published is None, n.published or "",
                                                  n.article_id))

    def origins(self) -> list[TraceNode]:
        """The ends of the chains: stored articles that cite no further stored article."""
        if not self.cites:
            return [self]
        found: list[TraceNode] = []
        for child in self.cites:
            found.extend(child.origins())
        return found


def _lookup(store: Store, url: str, tracking: Sequence[str] | None) -> int | None:
    found = store.known_url(url)
    if found is None:
        try:
            form = canonical_url(url, tracking_params=tracking) if tracking else canonical_url(url)
        except ValueError:
            return None
        found = store.known_url(form)
    return found


def trace(store: Store, article_id: int, *, tracking: Sequence[str] | None = None) -> TraceNode:
    """The citation tree below ``article_id`` (each stored article visited once)."""
    seen: set[int] = set()

    def node(aid: int, via: dict | None, depth: int) -> TraceNode | None:
        row = store._one("SELECT id, title, source, canonical_url, published, duplicate_of,"
                         " similarity FROM articles WHERE id = ?", (aid,))
        if row is None:
            return None
        seen.add(aid)
        current = TraceNode(aid, row["title"], row["source"], row["canonical_url"],
                            row["published"], via)
        if depth >= MAX_DEPTH:
            return current
        original = row["duplicate_of"]
        if original is not None and original not in seen:
            # A near-copy: the article it copies is where its information came from.
            head = store._one("SELECT source, canonical_url FROM articles WHERE id = ?",
                              (original,))
            if head is not None:
                child = node(int(original), {
                    "kind": "duplicate_of", "name": head["source"], "role": "copy of",
                    "url": head["canonical_url"], "similarity": row["similarity"],
                }, depth + 1)
                if child is not None:
                    current.cites.append(child)
        for attr in store.attributions(aid):
            if attr["kind"] not in CITING_KINDS:
                continue
            target = _lookup(store, attr["url"], tracking) if attr.get("url") else None
            if target is None:
                current.unresolved.append(attr)
                continue
            if target in seen:
                continue
            child = node(target, attr, depth + 1)
            if child is not None:
                current.cites.append(child)
        return current

    root = node(article_id, None, 0)
    if root is None:
        raise LookupError(article_id)
    return root
