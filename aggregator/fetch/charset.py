"""Deciding a page's character encoding, and making feed bytes safe for the XML parser.

Order of trust: byte-order mark, HTTP header charset, <meta> declaration, then detection
by content (charset-normalizer). A declared charset that the bytes do not decode in is
ignored (``declared-one-sent-another``), and a legacy single-byte declaration on bytes that
are valid, non-ASCII UTF-8 is taken to be a mislabel: the page is read as UTF-8.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG Encoding: ISO-8859-1 and ASCII labels mean windows-1252 on the web.
_AS_CP1252 = {"iso8859-1", "ascii"}
_META_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)
_SINGLE_BYTE = {"cp1252", "iso8859-1", "latin-1", "iso8859-15", "cp1250", "cp1251",
                "iso8859-2", "koi8-r", "mac-roman", "cp437"}


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("'\"").lower()).name
    except LookupError:
        return None
    if name in _AS_CP1252:
        return "cp1252"
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a UTF-16 label on ASCII-compatible bytes: WHATWG reads UTF-8
    return name


def bom_encoding(content: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if content.startswith(bom):
            return name, len(bom)
    return None


def meta_charset(content: bytes) -> str | None:
    """The charset named by a <meta> tag in the first 4 KiB, if any."""
    match = _META_RE.search(content[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _try(content: bytes, codec: str | None) -> tuple[str, str] | None:
    """Decode with a declared codec: (text, codec used), or None if the bytes do not fit."""
    if codec is None:
        return None
    try:
        text = content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if codec in _SINGLE_BYTE and not content.isascii():
        # Legacy label, but the bytes are valid UTF-8 with non-ASCII characters: almost
        # certainly UTF-8 sent under the wrong label (legacy text is rarely valid UTF-8).
        try:
            return content.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    return text, codec


def decode_html(content: bytes, header_charset: str | None) -> tuple[str, str]:
    """Decode an HTML (or other text) body. Returns (text, encoding used)."""
    bom = bom_encoding(content)
    if bom is not None:
        name, size = bom
        return content[size:].decode(name, errors="replace"), name
    for label in (header_charset, meta_charset(content)):
        decoded = _try(content, _codec(label))
        if decoded is not None:
            return decoded
    if content.isascii():
        return content.decode("ascii"), "ascii"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(content[:65536]).best()
    if best is not None and best.encoding:
        codec = _codec(best.encoding) or best.encoding
        try:
            return content.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return content.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return content.decode("utf-8", errors="replace"), "utf-8"


# -- feeds --------------------------------------------------------------------------------

_DOCTYPE = b"<!doctype"
#: What can end or open something inside a DOCTYPE: found by search, never by backtracking.
_DECL_SPECIAL = re.compile(rb"[\"'>\[]")
_SUBSET_SPECIAL = re.compile(rb"[\"'\]<]")


def _after(data: bytes, i: int, end: bytes) -> int:
    """Index just past the first ``end`` at or after i, or len(data) if there is none."""
    found = data.find(end, i)
    return len(data) if found < 0 else found + len(end)


def _skip_subset(data: bytes, i: int) -> int:
    """data[i] is the "[" opening an internal subset: the index just past its "]" (len(data)
    if it never closes). Quoted literals, comments and processing instructions are skipped
    whole, so a "]" inside them does not end the subset."""
    n = len(data)
    i += 1
    while i < n:
        m = _SUBSET_SPECIAL.search(data, i)
        if m is None:
            return n
        j = m.start()
        c = data[j:j + 1]
        if c in (b'"', b"'"):
            i = _after(data, j + 1, c)
        elif c == b"]":
            return j + 1
        elif data.startswith(b"<!--", j):
            i = _after(data, j + 4, b"-->")
        elif data.startswith(b"<?", j):
            i = _after(data, j + 2, b"?>")
        else:
            i = j + 1
    return n


def _strip_internal_subset(data: bytes) -> bytes:
    """Remove the "[ ... ]" of every DOCTYPE in the prolog, wherever it is in the file.

    The prolog is scanned from the start: XML declaration, processing instructions, comments
    (of any length) and stray text are skipped; a DOCTYPE there loses its internal subset;
    the first element ends the scan (a DOCTYPE after it is not one). Each step moves forward
    with a plain search, so the time is linear in the size of the input.
    """
    n = len(data)
    out: list[bytes] = []
    done = 0  # data[:done] is already in out
    i = 0
    while i < n:
        j = data.find(b"<", i)
        if j < 0:
            break
        if data.startswith(b"<!--", j):
            i = _after(data, j + 4, b"-->")
        elif data.startswith(b"<?", j):
            i = _after(data, j + 2, b"?>")
        elif data[j:j + len(_DOCTYPE)].lower() == _DOCTYPE:
            k = j + len(_DOCTYPE)
            while k < n:
                m = _DECL_SPECIAL.search(data, k)
                if m is None:
                    k = n
                    break
                c = data[m.start():m.start() + 1]
                if c in (b'"', b"'"):
                    k = _after(data, m.start() + 1, c)
                elif c == b">":
                    k = m.start() + 1  # DOCTYPE without an internal subset
                    break
                else:  # "[": drop it (everything to the end, if it never closes)
                    close = _skip_subset(data, m.start())
                    out.append(data[done:m.start()])
                    done = k = close
            i = k
        else:
            break  # the root element (or text markup): the prolog is over
    if not out:
        return data
    out.append(data[done:])
    return b"".join(out)


def prepare_feed_bytes(content: bytes) -> bytes:
    """Feed bytes with any DOCTYPE internal subset (entity declarations) removed.

    Entity expansion ("billion laughs", external entities) needs declarations in the
    internal subset; without it, references to undeclared entities are just errors the
    feed parser tolerates. UTF-16/32 feeds (with a BOM) are decoded, cleaned, re-encoded.
    """
    bom = bom_encoding(content)
    if bom is not None and not bom[0].startswith("utf-8"):
        name, size = bom
        text = content[size:].decode(name, errors="replace")
        cleaned = _strip_internal_subset(text.encode("utf-8"))
        if cleaned == text.encode("utf-8"):
            return content
        return content[:size] + cleaned.decode("utf-8").encode(name)
    return _strip_internal_subset(content)
