"""Pure parts of the fetch layer: address classification (as data, no sockets), backoff,
Retry-After, charset decisions, feed DOCTYPE stripping, bounded decoding."""

from __future__ import annotations

import asyncio
import codecs
import gzip
import time
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import brotli
import feedparser
import pytest

from aggregator.errors import BadContent, BlockedURLError, TooLarge
from aggregator.fetch import FetchSettings
from aggregator.fetch.backoff import error_backoff, parse_retry_after, retry_delay
from aggregator.fetch.body import read_body, read_prefix
from aggregator.fetch.charset import decode_html, prepare_feed_bytes
from aggregator.fetch.guard import check_host, classify_ip, ip_allowed, parse_allowed

# -- address classification: pure data, never connected to -----------------------------------

@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("10.1.2.3", "private"),
    ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified/this network"), ("224.0.0.251", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("192.0.2.1", "documentation"), ("198.18.0.1", "benchmarking"),
    ("::1", "loopback"), ("::", "unspecified"), ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:8.8.8.8", "IPv4-mapped"), ("64:ff9b::7f00:1", "NAT64"),
    ("64:ff9b::808:808", "NAT64"), ("2002:7f00:1::", "6to4"), ("2001:0:4136::1", "Teredo"),
    ("fc00::1", "unique local"), ("fd12:3456::1", "unique local"), ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"), ("fec0::1", "site-local"), ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"), ("::127.0.0.1", "IPv4-compatible"),
])
def test_non_public_addresses(address: str, reason: str) -> None:
    assert classify_ip(address) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34",
                                     "2606:4700:4700::1111", "2a00:1450:4001:82a::200e"])
def test_public_addresses(address: str) -> None:
    assert classify_ip(address) is None


def test_allow_list_is_exact() -> None:
    allowed = parse_allowed(["127.0.0.1", "10.9.0.0/16"])
    assert ip_allowed("127.0.0.1", allowed) is None
    assert ip_allowed("10.9.200.1", allowed) is None
    assert ip_allowed("127.0.0.2", allowed) == "loopback address 127.0.0.2"
    assert ip_allowed("10.10.0.1", allowed)
    assert ip_allowed("::ffff:127.0.0.1", allowed)  # the mapped form is not the same address
    assert ip_allowed("8.8.8.8", ()) is None


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1", "0x7f000001", "017700000001",
                                  "127.0.1", "0177.0.0.1", "127.000.000.001", "foo.123",
                                  "[::ffff:127.0.0.2]", "[::ffff:7f00:1]", "127.0.0.2",
                                  "[fe80::1%25eth0]", "169.254.169.254"])
def test_check_host_refuses(host: str) -> None:
    with pytest.raises(BlockedURLError):
        check_host(host, parse_allowed(["127.0.0.1"]))


@pytest.mark.parametrize("host", ["127.0.0.1", "example.com", "news.example.co.uk",
                                  "1password.com", "8.8.8.8", "x.y1"])
def test_check_host_accepts(host: str) -> None:
    check_host(host, parse_allowed(["127.0.0.1"]))


def test_settings_validate_allow_private() -> None:
    with pytest.raises(ValueError, match="allow_private"):
        FetchSettings(allow_private=("localhost",))
    assert FetchSettings(allow_private=["127.0.0.1"]).allow_private == ("127.0.0.1",)  # type: ignore[arg-type]


# -- backoff and Retry-After -------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(" 0 ", NOW) == 0.0
    assert parse_retry_after("99999", NOW, maximum=3600) == 3600.0
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, NOW) == 90.0
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0
    far = format_datetime(NOW + timedelta(days=30), usegmt=True)
    assert parse_retry_after(far, NOW, maximum=600) == 600.0
    for bad in (None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026"):
        assert parse_retry_after(bad, NOW) is None


def test_error_backoff_grows_and_caps() -> None:
    assert [error_backoff(n, 900) for n in (1, 2, 3, 4)] == [900, 1800, 3600, 7200]
    assert error_backoff(40, 900) == 86400
    assert error_backoff(10_000, 900, cap=3600) == 3600
    assert error_backoff(0, 900) == 900


def test_retry_delay_jitter_bounds() -> None:
    import random

    rng = random.Random(7)
    for attempt in range(5):
        for _ in range(50):
            d = retry_delay(attempt, 1.0, rng)
            assert 0.5 * 2 ** attempt <= d < 1.5 * 2 ** attempt


# -- charset -----------------------------------------------------------------------------------

TEXT = "<html><head><title>Fotoblog Müller</title></head><body><p>Überblick: Objektiv für " \
       "1.299 €, Caméra à l'épreuve — « très bien »</p></body></html>"


@pytest.mark.parametrize("content, header, expected_codec", [
    (TEXT.encode("utf-8"), "utf-8", "utf-8"),
    (TEXT.encode("utf-8"), None, "utf-8"),
    (TEXT.encode("cp1252"), "windows-1252", "cp1252"),
    (TEXT.encode("cp1252"), "iso-8859-1", "cp1252"),  # WHATWG: latin-1 label means cp1252
    (TEXT.encode("cp1252"), "utf-8", None),  # declared utf-8, sent cp1252: fall back
    (TEXT.encode("utf-8"), "iso-8859-1", "utf-8"),  # declared latin-1, sent utf-8
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "iso-8859-1", "utf-8"),
    (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-8", "utf-16-le"),
    (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), None, "utf-16-be"),
    (TEXT.encode("utf-8"), "no-such-charset", "utf-8"),
])
def test_decode_html(content: bytes, header: str | None, expected_codec: str | None) -> None:
    text, used = decode_html(content, header)
    assert "Müller" in text and "1.299 €" in text and "« très bien »" in text
    if expected_codec:
        assert used == expected_codec


def test_meta_charset_used_when_header_silent() -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=windows-1252"></head><body>' + TEXT + "</body></html>").encode("cp1252")
    text, used = decode_html(html, None)
    assert "Müller" in text and used == "cp1252"
    html2 = b'<meta charset="iso-8859-15">' + "Prix 12 €".encode("iso-8859-15")
    assert decode_html(html2, None) == ('<meta charset="iso-8859-15">Prix 12 €', "iso8859-15")


def test_header_beats_meta() -> None:
    html = b'<meta charset="windows-1252">' + "Müller".encode()
    text, used = decode_html(html, "utf-8")
    assert text.endswith("Müller") and used == "utf-8"


def test_detection_without_any_declaration() -> None:
    body = ("<p>" + "Der Händler verkauft die Kamera für 1.299 € im Geschäft. " * 20
            + "</p>").encode("cp1252")
    text, _ = decode_html(body, None)
    assert "Händler" in text and "für" in text


# -- feed bytes --------------------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
 <!ENTITY tricky "]> not the end">
]>
<rss version="2.0"><channel><title>Laughs &lol9; &xxe;</title>
<item><title>Kept item</title><link>http://127.0.0.1/a</link></item>
</channel></rss>"""


def test_prepare_feed_bytes_strips_internal_subset() -> None:
    cleaned = prepare_feed_bytes(LAUGHS)
    assert b"<!ENTITY" not in cleaned and b"not the end" not in cleaned
    assert b"<!DOCTYPE rss" in cleaned and b"Kept item" in cleaned
    start = time.monotonic()
    parsed = feedparser.parse(cleaned)
    assert time.monotonic() - start < 2.0
    assert [e.title for e in parsed.entries] == ["Kept item"]
    title = parsed.feed.get("title", "")
    assert "lollol" not in title and "root:" not in title  # left unexpanded


@pytest.mark.parametrize("before", [
    b"<!-- " + b"padding " * 9000 + b"-->\n",  # 72 KB: past any fixed-size window
    b"<!-- a <b>tag</b> in a comment --><?xml-stylesheet href='s.xsl'?>\n",
    b"\n" * 70000,
], ids=["long-comment", "markup-in-comment", "blank-lines"])
def test_prepare_feed_bytes_strips_wherever_the_doctype_is(before: bytes) -> None:
    decl, rest = LAUGHS.split(b"\n", 1)
    data = decl + b"\n" + before + rest
    cleaned = prepare_feed_bytes(data)
    assert b"<!ENTITY" not in cleaned and b"not the end" not in cleaned
    assert cleaned.startswith(decl + b"\n" + before) and b"<!DOCTYPE rss" in cleaned
    parsed = feedparser.parse(cleaned)
    assert [e.title for e in parsed.entries] == ["Kept item"]
    assert "lollol" not in parsed.feed.get("title", "")


def test_prepare_feed_bytes_is_linear_on_hostile_prologs() -> None:
    hostile = [
        b"<!-- -->" * 500_000 + LAUGHS,  # many comments, then the DOCTYPE
        b"<?x?>" * 500_000 + b"<!DOCTYPE x [" + b"<!-- ]" * 500_000,  # unclosed comment
        b"<!DOCTYPE x [" + b"<?p ]" * 500_000,  # unclosed PIs in an unclosed subset
        b"<!DOCTYPE x " + b'"' * 1_000_001,  # quotes that never balance
    ]
    for data in hostile:
        start = time.monotonic()
        cleaned = prepare_feed_bytes(data)
        assert time.monotonic() - start < 2.0
        assert b"<!ENTITY" not in cleaned


def test_prepare_feed_bytes_leaves_plain_feeds_alone() -> None:
    plain = b'<?xml version="1.0"?><rss version="2.0"><channel><title>[x]</title></channel></rss>'
    assert prepare_feed_bytes(plain) == plain
    doctype = b'<!DOCTYPE rss PUBLIC "-//x//[y]//EN" "http://x/[z]"><rss/>'
    assert prepare_feed_bytes(doctype) == doctype
    late = b"<rss><description>&lt;!DOCTYPE x [ ]&gt;</description><!DOCTYPE x [y]></rss>"
    assert prepare_feed_bytes(late) == late


def test_prepare_feed_bytes_utf16() -> None:
    data = codecs.BOM_UTF16_LE + LAUGHS.decode().encode("utf-16-le")
    cleaned = prepare_feed_bytes(data)
    assert cleaned.startswith(codecs.BOM_UTF16_LE)
    text = cleaned[2:].decode("utf-16-le")
    assert "<!ENTITY" not in text and "Kept item" in text


def test_prepare_feed_bytes_unclosed_subset() -> None:
    assert b"ENTITY" not in prepare_feed_bytes(b'<!DOCTYPE x [ <!ENTITY a "b">')


# -- bounded decoding --------------------------------------------------------------------------

async def _chunks(data: bytes, size: int = 16384):  # type: ignore[no-untyped-def]
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _read(data: bytes, coding: str | None, cap: int) -> bytes:
    return asyncio.run(read_body(_chunks(data), coding, cap))


def test_read_body_codings() -> None:
    import brotli

    raw = b"hello world " * 1000
    assert _read(raw, None, 10**6) == raw
    assert _read(gzip.compress(raw), "gzip", 10**6) == raw
    assert _read(zlib.compress(raw), "deflate", 10**6) == raw
    assert _read(brotli.compress(raw), "br", 10**6) == raw
    assert _read(gzip.compress(brotli.compress(raw)), "br, gzip", 10**6) == raw
    assert _read(raw, None, len(raw)) == raw  # exactly at the cap is fine
    with pytest.raises(TooLarge):
        _read(raw, None, len(raw) - 1)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_read_body_bomb_stops_at_cap(coding: str) -> None:
    import brotli

    zeros = b"\0" * (32 * 1024 * 1024)
    data = (gzip.compress(zeros) if coding == "gzip" else zlib.compress(zeros)
            if coding == "deflate" else brotli.compress(zeros, quality=1))
    with pytest.raises(TooLarge):
        _read(data, coding, 100_000)


@pytest.mark.parametrize("coding", [None, "gzip", "br"])
def test_read_prefix_cuts_at_the_cap(coding: str | None) -> None:
    raw = b"line\n" * 100_000
    data = {None: raw, "gzip": gzip.compress(raw), "br": brotli.compress(raw)}[coding]
    head, cut = asyncio.run(read_prefix(_chunks(data), coding, 1000))
    assert cut and head == raw[:1000]
    whole, cut = asyncio.run(read_prefix(_chunks(data), coding, len(raw)))
    assert not cut and whole == raw


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_read_body_corrupt_or_truncated(coding: str) -> None:
    import brotli

    raw = bytes(range(256)) * 200
    data = (gzip.compress(raw) if coding == "gzip" else zlib.compress(raw)
            if coding == "deflate" else brotli.compress(raw))
    with pytest.raises(BadContent):
        _read(data[: len(data) // 2], coding, 10**6)
    with pytest.raises(BadContent):
        _read(b"\x1f\x8b garbage" * 10 if coding == "gzip" else b"\xff" * 64, coding, 10**6)
