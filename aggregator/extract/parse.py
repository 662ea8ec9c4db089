"""Bytes or text in, one lxml.html document out (parsed once, shared by every extractor)."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from aggregator.errors import NoArticle

try:  # the fetch stage's decoder (BOM, header, <meta>, detection)
    from aggregator.fetch.charset import decode_html as _decode_html
except ImportError:  # pragma: no cover - only while the fetch package is missing
    _decode_html = None

# XML 1.0 forbids these; lxml refuses them in str input.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

# Tags kept when a too-deeply nested document is flattened and parsed again.
_FLAT_KEEP = ("html", "head", "body", "title", "meta", "link", "script", "style", "p", "h1",
              "h2", "h3", "h4", "h5", "h6", "br", "pre", "a", "img", "time", "article", "main")
_ANY_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9:-]*)\b[^>]*>")


#: Every element carrying a class, id, rel or itemprop, in document order: the one cheap
#: scan the byline and credit finders filter with a regex (metadata, attribution).
WITH_NAMING_ATTRS = etree.XPath("//*[@class or @id or @rel or @itemprop]")


def _parser() -> lxml.html.HTMLParser:
    # One per call: its error log tells us when libxml2 gave up on nesting depth.
    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True,
                                default_doctype=False)


def _flatten(text: str) -> str:
    """Drop every tag but a few block/metadata ones, so nesting depth cannot explode."""
    return _ANY_TAG.sub(
        lambda m: m.group(0) if m.group(1).lower() in _FLAT_KEEP else " ", text)


def decode(content: bytes, header_charset: str | None = None) -> str:
    """Decode page bytes: BOM, then the header's charset, then <meta>, then detection."""
    if _decode_html is not None:
        try:
            return _decode_html(content, header_charset)[0]
        except Exception:  # noqa: BLE001 - never let a decoder bug stop extraction
            pass
    for codec in (header_charset, "utf-8"):
        if codec:
            try:
                return content.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    return content.decode("cp1252", errors="replace")


#: Leading bytes of formats that are not web pages.
_NOT_HTML = ((b"%PDF", "PDF"), (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
             (b"GIF8", "GIF image"), (b"PK\x03\x04", "ZIP archive"), (b"\x1f\x8b", "gzip data"),
             (b"RIFF", "RIFF media"), (b"ID3", "MP3 audio"), (b"OggS", "Ogg media"))


def parse_document(html: str | bytes, url: str | None = None, *,
                   header_charset: str | None = None) -> lxml.html.HtmlElement:
    """The page's <html> element. Raises NoArticle for empty or unparsable documents."""
    if isinstance(html, bytes):
        head = html[:8].lstrip()
        for magic, kind in _NOT_HTML:
            if head.startswith(magic):
                raise NoArticle(f"not an HTML document ({kind})", url=url)
    elif html.lstrip()[:5] == "%PDF-":
        raise NoArticle("not an HTML document (PDF)", url=url)
    text = decode(html, header_charset) if isinstance(html, bytes) else html
    if "<" not in text[:100_000]:
        raise NoArticle("not an HTML document (no markup)", url=url)
    if text.startswith("\ufeff"):
        text = text[1:]
    text = _XML_DECL.sub("", text, count=1)
    text = _BAD_CHARS.sub("", text)
    if not text.strip():
        raise NoArticle("empty document", url=url)
    try:
        parser = _parser()
        root = lxml.html.document_fromstring(text, parser=parser)
        if any("depth" in entry.message for entry in parser.error_log):
            root = lxml.html.document_fromstring(_flatten(text), parser=_parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise NoArticle(f"unparsable document: {exc}", url=url) from None
    if root is None or not isinstance(root.tag, str):
        raise NoArticle("unparsable document", url=url)
    return root
