"""OPML 2.0 import and export of sources, folders kept as categories.

Export (``build_opml``): one ``<outline type="rss">`` per feed source (``xmlUrl``, ``title``,
``text``) and ``<outline type="link">`` (``url``) per listing source, which has no feed.
Sources with a category sit in nested folder outlines: ``"Cameras/Press"`` becomes a
``Cameras`` folder holding a ``Press`` folder. The ``category`` attribute is written too.

Import (``parse_opml`` -> ``OpmlFeed`` values, ``to_toml`` -> text): every outline with an
``xmlUrl`` is a feed; the folders above it (and its own ``category`` attribute, first value)
give its category, joined with ``/``. The result is TOML ``[[sources]]`` text, printed or
appended to the config (the command decides; see ``aggregator.commands.opml``). The config
has no category key yet, so each entry carries its category as a comment line
``# category: Cameras/Press`` just above it; ``categories_from_toml`` reads those comments
back, so an import followed by an export keeps the folders. Feeds whose URL or name is
already configured are skipped; names are made from titles (``a-z0-9-``, unique).

The OPML parser refuses DTDs and entities (no entity expansion, no network).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from aggregator.errors import ConfigError
from aggregator.models import Source
from aggregator.sanitize import clean_text

__all__ = ["OpmlFeed", "build_opml", "categories_from_toml", "parse_opml", "to_toml"]

DEFAULT_INTERVAL = "1h"
_CATEGORY_COMMENT = re.compile(r"^#\s*category:\s*(.+?)\s*$")


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    xml_url: str
    html_url: str | None = None
    category: str | None = None


# -- export -------------------------------------------------------------------------------
def build_opml(sources: Sequence[Source], *, title: str = "aggregator sources",
               categories: Mapping[str, str] | None = None,
               created: datetime | None = None) -> str:
    """OPML 2.0 text for ``sources``; ``categories`` maps source name -> "Folder/Sub"."""
    categories = dict(categories or {})
    opml = etree.Element("opml", version="2.0")
    head = etree.SubElement(opml, "head")
    etree.SubElement(head, "title").text = clean_text(title)
    if created is not None:
        etree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = etree.SubElement(opml, "body")
    folders: dict[tuple[str, ...], etree._Element] = {}

    def folder(path: tuple[str, ...]) -> etree._Element:
        if not path:
            return body
        if path not in folders:
            parent = folder(path[:-1])
            folders[path] = etree.SubElement(parent, "outline", text=path[-1], title=path[-1])
        return folders[path]

    for s in sources:
        cat = categories.get(s.name) or getattr(s, "category", None)
        path = tuple(p.strip() for p in cat.split("/") if p.strip()) if cat else ()
        attrs = {"text": clean_text(s.title), "title": clean_text(s.title)}
        if s.kind == "feed":
            attrs.update(type="rss", xmlUrl=s.url)
        else:
            attrs.update(type="link", url=s.url)
        if path:
            attrs["category"] = "/" + "/".join(path)
        etree.SubElement(folder(path), "outline", attrs)
    return etree.tostring(opml, xml_declaration=True, encoding="utf-8",
                          pretty_print=True).decode("utf-8")


# -- import -------------------------------------------------------------------------------
def parse_opml(data: bytes | str, *, file: str = "<opml>") -> list[OpmlFeed]:
    """Feeds in an OPML document, with their folder path as category. Raises ConfigError."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b"<!DOCTYPE" in raw[:2048].upper() or b"<!ENTITY" in raw.upper():
        raise ConfigError("OPML with a DTD or entities is not accepted", file=file)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"not well-formed XML: {exc}", file=file) from None
    if root.tag != "opml":
        raise ConfigError(f"not OPML (root element <{root.tag}>)", file=file)
    body = root.find("body")
    if body is None:
        raise ConfigError("OPML without a <body>", file=file)
    out: list[OpmlFeed] = []

    def walk(node: etree._Element, path: tuple[str, ...]) -> None:
        for child in node:
            if child.tag != "outline":
                continue
            text = (child.get("title") or child.get("text") or "").strip()
            xml_url = (child.get("xmlUrl") or "").strip()
            if xml_url:
                cat = "/".join(path)
                own = (child.get("category") or "").split(",")[0].strip().strip("/")
                if own and not cat:
                    cat = own
                out.append(OpmlFeed(title=clean_text(text) or xml_url, xml_url=xml_url,
                                    html_url=(child.get("htmlUrl") or "").strip() or None,
                                    category=cat or None))
            walk(child, (*path, clean_text(text)) if not xml_url and text else path)

    walk(body, ())
    return out


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:48].strip("-")
    return s or "feed"


def _toml_string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_toml(feeds: Iterable[OpmlFeed], *, existing: Sequence[Source] = (),
            interval: str = DEFAULT_INTERVAL) -> tuple[str, list[OpmlFeed]]:
    """``[[sources]]`` TOML for the feeds not configured yet; also returns the skipped ones.

    Feeds with a URL that is not http(s) are skipped too.
    """
    from aggregator.config import check_url

    names = {s.name for s in existing}
    urls = {s.url for s in existing}
    blocks: list[str] = []
    skipped: list[OpmlFeed] = []
    for feed in feeds:
        try:
            url = check_url(feed.xml_url)
        except ValueError:
            skipped.append(feed)
            continue
        if url in urls:
            skipped.append(feed)
            continue
        base = slug(feed.title)
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.add(name)
        urls.add(url)
        lines = []
        if feed.category:
            lines.append(f"# category: {clean_text(feed.category).replace(chr(10), ' ')}")
        lines += [
            "[[sources]]",
            f"name = {_toml_string(name)}",
            f"title = {_toml_string(clean_text(feed.title))}",
            'kind = "feed"',
            f"url = {_toml_string(url)}",
            f"interval = {_toml_string(interval)}",
        ]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks), skipped


def categories_from_toml(text: str) -> dict[str, str]:
    """Source name -> category from ``# category:`` comments written by ``to_toml``."""
    out: dict[str, str] = {}
    pending: str | None = None
    in_source = False
    for line in text.splitlines():
        stripped = line.strip()
        m = _CATEGORY_COMMENT.match(stripped)
        if m:
            pending = m.group(1)
            continue
        if stripped == "[[sources]]":
            in_source = True
            continue
        if stripped.startswith("["):
            in_source, pending = False, None
            continue
        if in_source and pending and (nm := re.match(r'^name\s*=\s*"([^"]+)"', stripped)):
            out[nm.group(1)] = pending
            pending = None
    return out
