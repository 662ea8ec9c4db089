"""Reading a response body within limits: decoding content-encodings ourselves, with the
size cap applied to the decoded bytes as they are produced, so a compression bomb stops at
the cap and memory stays bounded by it."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import brotli

from aggregator.errors import BadContent, TooLarge, UnsupportedContent


class _Stage:
    def push(self, data: bytes) -> None:
        raise NotImplementedError

    def pull(self, budget: int) -> bytes:
        """Up to ``budget`` decoded bytes from what was pushed; b"" when nothing is ready."""
        raise NotImplementedError

    def finished(self) -> bool:
        raise NotImplementedError


class _Identity(_Stage):
    def __init__(self) -> None:
        self.buffer = b""

    def push(self, data: bytes) -> None:
        self.buffer += data

    def pull(self, budget: int) -> bytes:
        out, self.buffer = self.buffer[:budget], self.buffer[budget:]
        return out

    def finished(self) -> bool:
        return True


class _Zlib(_Stage):
    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.obj: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip \
            else None
        self.pending = b""

    def push(self, data: bytes) -> None:
        self.pending += data

    def pull(self, budget: int) -> bytes:
        if self.obj is None:
            if len(self.pending) < 2:
                return b""
            # "deflate" should be zlib-wrapped, but some servers send raw deflate.
            b0, b1 = self.pending[0], self.pending[1]
            wrapped = (b0 & 0x0F) == 8 and ((b0 << 8) | b1) % 31 == 0
            self.obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if not self.pending or self.obj.eof:
            self.pending = b""
            return b""
        out = self.obj.decompress(self.pending, budget)
        self.pending = self.obj.unconsumed_tail
        return out

    def finished(self) -> bool:
        return self.obj is not None and self.obj.eof


class _Brotli(_Stage):
    def __init__(self) -> None:
        self.obj = brotli.Decompressor()
        self.pending = b""

    def push(self, data: bytes) -> None:
        self.pending += data

    def pull(self, budget: int) -> bytes:
        if self.obj.can_accept_more_data():
            if not self.pending:
                return b""
            data, self.pending = self.pending, b""
        else:
            data = b""
        return self.obj.process(data, output_buffer_limit=max(budget, 1))

    def finished(self) -> bool:
        return self.obj.is_finished()


def _stage(coding: str) -> _Stage:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if coding == "deflate":
        return _Zlib(gzip=False)
    if coding == "br":
        return _Brotli()
    if coding in ("identity", ""):
        return _Identity()
    raise UnsupportedContent(f"unsupported content-encoding {coding!r}")


class _Full(Exception):
    """The prefix wanted is complete (read_prefix)."""


async def read_body(chunks: AsyncIterator[bytes], content_encoding: str | None,
                    max_bytes: int) -> bytes:
    """Decode and collect the body; TooLarge as soon as the decoded size passes max_bytes."""
    body, _ = await _collect(chunks, content_encoding, max_bytes, truncate=False)
    return body


async def read_prefix(chunks: AsyncIterator[bytes], content_encoding: str | None,
                      max_bytes: int) -> tuple[bytes, bool]:
    """The first ``max_bytes`` decoded bytes of the body, and whether there was more (then
    reading stopped there: memory stays bounded by the cap, as for read_body)."""
    return await _collect(chunks, content_encoding, max_bytes, truncate=True)


async def _collect(chunks: AsyncIterator[bytes], content_encoding: str | None,
                   max_bytes: int, *, truncate: bool) -> tuple[bytes, bool]:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    stages = [_stage(c) for c in reversed(codings)] or [_Identity()]
    out = bytearray()

    def drain(level: int) -> None:
        """Move everything ready through stages[level:] into ``out``."""
        stage = stages[level]
        while True:
            budget = max_bytes - len(out) + 1
            piece = stage.pull(budget)
            if not piece:
                return
            if level + 1 < len(stages):
                stages[level + 1].push(piece)
                drain(level + 1)
            else:
                out.extend(piece)
            if len(out) > max_bytes:
                if truncate:
                    raise _Full
                raise TooLarge(f"body over {max_bytes} bytes (decoded)")

    try:
        async for chunk in chunks:
            if not chunk:
                continue
            stages[0].push(chunk)
            drain(0)
        drain(0)
    except _Full:
        return bytes(out[:max_bytes]), True
    except (zlib.error, brotli.error) as exc:
        raise BadContent(f"corrupt {', '.join(codings)} body: {exc}") from None
    if not all(s.finished() for s in stages):
        raise BadContent(f"truncated {', '.join(codings)} body")
    return bytes(out), False
