"""A deliberately badly behaved HTTP server on loopback, for the fetch tests.

Raw asyncio streams (not an HTTP framework) so it can misbehave at the socket level: stall
before headers, trickle, hang mid-body, lie about lengths, break chunking, send bombs.
It runs its own event loop in a daemon thread; every request is logged so tests can check
what reached it (and what did not).

    with MisbehavingServer() as server:         # 127.0.0.1, a free port
        server.url("/gzip-bomb")
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import gzip
import ssl
import threading
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import brotli

BOMB_SIZE = 32 * 1024 * 1024  # decoded size of the compression bombs

HTML = b"<!doctype html><html><head><title>Ok</title></head><body><p>Fine.</p></body></html>"
# The item links to this server's own /ok (relative): following it never leaves loopback.
RSS = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
       b"<item><title>One</title><link>/ok</link></item></channel></rss>")


def _bomb(kind: str) -> bytes:
    block = b"\0" * (1024 * 1024)
    if kind == "br":
        comp = brotli.Compressor(quality=1)
        parts = [comp.process(block) for _ in range(BOMB_SIZE // len(block))]
        return b"".join(parts) + comp.finish()
    wbits = 16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS
    obj = zlib.compressobj(9, zlib.DEFLATED, wbits)
    parts = [obj.compress(block) for _ in range(BOMB_SIZE // len(block))]
    return b"".join(parts) + obj.flush()


_BOMBS: dict[str, bytes] = {}


def bomb(kind: str) -> bytes:
    if kind not in _BOMBS:
        _BOMBS[kind] = _bomb(kind)
    return _BOMBS[kind]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


Handler = Callable[["MisbehavingServer", Request, asyncio.StreamWriter], Awaitable[None]]


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class MisbehavingServer:
    def __init__(self, host: str = "127.0.0.1", *, robots: str = "404",
                 latency: float = 0.0, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        self.port = 0
        self.robots = robots  # "allow", "disallow", "disallow-private", "404", "500", "hang",
        #                       "crawl-delay", "huge", "huge-nocl" (over the 500 KiB cap)
        self.latency = latency
        self.log: list[Request] = []
        self.connections = 0
        self.active = 0
        self.peak = 0
        self.counters: collections.Counter[str] = collections.Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> MisbehavingServer:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [r.path for r in self.log]

    def hits(self, path: str) -> int:
        return sum(1 for r in self.log if r.path == path)

    # -- connection handling -----------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ConnectionError):
                    return
                request = self._parse(head)
                self.log.append(request)
                self.active += 1
                self.peak = max(self.peak, self.active)
                try:
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    keep = await self._dispatch(request, writer)
                finally:
                    self.active -= 1
                if not keep:
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()

    @staticmethod
    def _parse(head: bytes) -> Request:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return Request(method, parts.path, query, headers)

    async def _dispatch(self, req: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; True to keep the connection open for the next one."""
        if req.path == "/robots.txt":
            return await self._robots(req, writer)
        name = req.path.strip("/").split("/")[0].replace("-", "_") or "ok"
        handler = getattr(self, f"h_{name}", None)
        if handler is None:
            await self._send(writer, Reply(404, [("Content-Type", "text/plain")], b"not found"))
            return False
        reply = await handler(req, writer)
        if reply is not None:
            await self._send(writer, reply)
        return False

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        headers = list(reply.headers)
        if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
            headers.append(("Content-Length", str(len(reply.body))))
        headers.append(("Connection", "close"))
        writer.write(_head(reply.status, headers) + reply.body)
        await writer.drain()

    async def _robots(self, req: Request, writer: asyncio.StreamWriter) -> bool:
        mode = self.robots
        text = {"allow": "User-agent: *\nDisallow:\n",
                "disallow": "User-agent: *\nDisallow: /\n",
                "disallow-private": "User-agent: aggregator\nDisallow: /private\n",
                "crawl-delay": "User-agent: *\nCrawl-delay: 5\nDisallow: /private\n"}.get(mode)
        if text is not None:
            await self._send(writer, Reply(200, [("Content-Type", "text/plain")], text.encode()))
        elif mode in ("huge", "huge-nocl"):
            # /private is disallowed early; the rule for /ok comes after the first 600 KB,
            # past the size a crawler has to parse (RFC 9309: at least 500 KiB)
            body = (b"User-agent: *\nDisallow: /private\n" + b"# padding line\n" * 40000
                    + b"Disallow: /ok\n")
            if mode == "huge":
                await self._send(writer, Reply(200, [("Content-Type", "text/plain")], body))
            else:
                writer.write(_head(200, [("Content-Type", "text/plain"), ("Connection", "close")])
                             + body)
                await writer.drain()
        elif mode == "hang":
            await asyncio.sleep(3600)
        else:
            await self._send(writer, Reply(int(mode), [("Content-Type", "text/plain")], b"x"))
        return False

    # -- endpoints: well-behaved ---------------------------------------------------------
    async def h_ok(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [("Content-Type", "text/html; charset=utf-8")], HTML)

    async def h_private(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return await self.h_ok(req, w)

    async def h_feed(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [("Content-Type", "application/rss+xml")], RSS)

    async def h_pdf(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [("Content-Type", "application/pdf")], b"%PDF-1.4\n" + b"0" * 100)

    async def h_untyped(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [], RSS if req.query.get("kind") == "feed" else b"\x00\x01binary")

    async def h_etag(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        validators = [("ETag", '"v1"'), ("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")]
        if (req.headers.get("if-none-match") == '"v1"'
                or req.headers.get("if-modified-since") == "Sat, 21 Nov 2026 10:00:00 GMT"):
            return Reply(304, validators)
        return Reply(200, [("Content-Type", "application/rss+xml"), *validators], RSS)

    async def h_gzip(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                     gzip.compress(HTML))

    async def h_br(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "br")],
                     brotli.compress(HTML))

    async def h_raw_deflate(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        obj = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "deflate")],
                     obj.compress(HTML) + obj.flush())

    async def h_chunked(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"),
                            ("Connection", "close")]))
        for piece in (HTML[:20], HTML[20:]):
            w.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        w.write(b"0\r\n\r\n")
        await w.drain()

    # -- endpoints: slow -----------------------------------------------------------------
    async def h_slow_headers(self, req: Request, w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    async def h_trickle(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Content-Length", "100000")]))
        for _ in range(100000):
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.05)

    async def h_hang_body(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Content-Length", "1000")]))
        w.write(b"<html>")
        await w.drain()
        await asyncio.sleep(3600)

    async def h_sleep(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        await asyncio.sleep(float(req.query.get("s", "0.1")))
        return await self.h_ok(req, w)

    # -- endpoints: too big ----------------------------------------------------------------
    async def h_huge_cl(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Content-Length", str(10**10))]))
        w.write(b"x" * 65536)
        await w.drain()
        await asyncio.sleep(3600)  # a client that waited for the body would hang here

    async def h_huge_nocl(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Connection", "close")]))
        block = b"x" * 65536
        for _ in range(100000):  # ~6.5 GB if nobody stops reading
            w.write(block)
            await w.drain()

    async def _bomb(self, w: asyncio.StreamWriter, kind: str, coding: str) -> None:
        data = bomb(kind)
        w.write(_head(200, [("Content-Type", "text/html"), ("Content-Encoding", coding),
                            ("Content-Length", str(len(data)))]))
        w.write(data)
        await w.drain()

    async def h_gzip_bomb(self, req: Request, w: asyncio.StreamWriter) -> None:
        await self._bomb(w, "gzip", "gzip")

    async def h_deflate_bomb(self, req: Request, w: asyncio.StreamWriter) -> None:
        await self._bomb(w, "deflate", "deflate")

    async def h_br_bomb(self, req: Request, w: asyncio.StreamWriter) -> None:
        await self._bomb(w, "br", "br")

    # -- endpoints: broken -----------------------------------------------------------------
    async def h_truncated(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Content-Length", "1000")]))
        w.write(HTML[:50])
        await w.drain()

    async def h_truncated_gzip(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        data = gzip.compress(HTML * 20)
        return Reply(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                     data[: len(data) // 2])

    async def h_broken_chunked(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]))
        w.write(b"14\r\n" + HTML[:20] + b"\r\nZZ-not-hex\r\nmore\r\n0\r\n\r\n")
        await w.drain()

    async def h_truncated_chunked(self, req: Request, w: asyncio.StreamWriter) -> None:
        w.write(_head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]))
        w.write(b"14\r\n" + HTML[:20] + b"\r\n")  # then close without the last chunk
        await w.drain()

    async def h_reset(self, req: Request, w: asyncio.StreamWriter) -> None:
        transport = w.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket
            import struct
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    # -- endpoints: redirects ----------------------------------------------------------------
    async def h_redirect(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(int(req.query.get("code", "302")), [("Location", req.query["to"])])

    async def h_loop(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(302, [("Location", "/loop")])

    async def h_chain(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        """``n`` redirects to the end of the chain, each after ``s`` seconds."""
        left = int(req.query.get("n", "0"))
        delay = req.query.get("s")
        if delay:
            await asyncio.sleep(float(delay))
        if left <= 0:
            return await self.h_ok(req, w)
        more = f"&s={delay}" if delay else ""
        return Reply(301, [("Location", f"/chain?n={left - 1}{more}")])

    # -- endpoints: rate limits and flakiness ------------------------------------------------
    def _count(self, req: Request) -> int:
        key = req.path + "?" + req.query.get("key", "")
        self.counters[key] += 1
        return self.counters[key]

    async def h_limited(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        """First ``times`` requests: ``status`` with Retry-After in ``form``; then 200."""
        if self._count(req) <= int(req.query.get("times", "1")):
            seconds = int(req.query.get("after", "2"))
            if req.query.get("form") == "date":
                when = datetime.now(UTC) + timedelta(seconds=seconds)
                value = format_datetime(when, usegmt=True)
            else:
                value = str(seconds)
            return Reply(int(req.query.get("status", "429")), [("Retry-After", value)], b"slow")
        return await self.h_ok(req, w)

    async def h_flaky(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        """First ``fail`` requests: ``status``; then 200 (the feed with ``kind=feed``)."""
        if self._count(req) <= int(req.query.get("fail", "1")):
            return Reply(int(req.query.get("status", "500")), [], b"oops")
        if req.query.get("kind") == "feed":
            return await self.h_feed(req, w)
        return await self.h_ok(req, w)

    async def h_status(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        return Reply(int(req.query.get("code", "404")), [("Content-Type", "text/html")], b"no")

    # -- endpoints: charsets -----------------------------------------------------------------
    async def h_mislabelled(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        """windows-1252 bytes labelled UTF-8 (an RSS feed with ``kind=feed``)."""
        if req.query.get("kind") == "feed":
            feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    "<title>Fotoblog Müller</title><item><title>Objektiv für 1.299 €</title>"
                    "<link>/ok</link></item></channel></rss>")
            return Reply(200, [("Content-Type", "application/rss+xml; charset=utf-8")],
                         feed.encode("cp1252"))
        body = "<html><body><p>Fotoblog Müller: Objektiv für 1.299 €</p></body></html>"
        return Reply(200, [("Content-Type", "text/html; charset=utf-8")], body.encode("cp1252"))

    async def h_utf16(self, req: Request, w: asyncio.StreamWriter) -> Reply:
        body = "<html><body><p>Caméra Übersicht</p></body></html>"
        return Reply(200, [("Content-Type", "text/html; charset=iso-8859-1")],
                     codecs.BOM_UTF16_LE + body.encode("utf-16-le"))
