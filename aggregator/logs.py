"""Run logs: one line per fetch and one per source run.

Two formats over the same events:

- ``text`` (for people): ``2026-11-22T02:10:03Z fetch  shutter-notes 200 12.4kB 38ms URL``
  and ``2026-11-22T02:10:04Z source shutter-notes ok 3 new/12 entries 0 errors 812ms
  next 02:41:17 (every 31m)``.
- ``json`` (for machines): one object per line with ``ts``, ``event`` and the fields.

The logger writes to the stream it is given (stdout for ``aggregator run``) and flushes
every line, so a line is whole even if the process is killed right after.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")


@dataclass(frozen=True)
class FetchEvent:
    source: str | None
    url: str
    status: int | None
    bytes: int
    ms: float
    error: str | None = None
    final_url: str | None = None


@dataclass(frozen=True)
class RunEvent:
    source: str
    status: str  # ok | not-modified | failed | cancelled
    entries: int
    new: int
    errors: int
    ms: float
    interval: float | None = None
    next_check: str | None = None
    reason: str | None = None  # why the next check is when it is: interval | hint | backoff
    error: str | None = None


def human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n}B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f}kB"
    return f"{n / 1024 / 1024:.1f}MB"


def human_seconds(seconds: float | None) -> str:
    """90 -> "1m30s", 5400 -> "1h30m", 93600 -> "1d2h" (two units at most)."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for i, (unit, size) in enumerate(units):
        if s >= size or size == 1:
            whole, rest = divmod(s, size)
            out = f"{whole}{unit}"
            if i + 1 < len(units) and rest:
                sub, sub_size = units[i + 1]
                if rest // sub_size:
                    out += f"{rest // sub_size}{sub}"
            return out
    return f"{s}s"


class RunLogger:
    """Formats events and writes them, one whole line each (thread-safe)."""

    def __init__(self, stream: TextIO, fmt: str = "text", *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"log format must be one of {FORMATS}, not {fmt!r}")
        self.stream = stream
        self.fmt = fmt
        self.clock = clock
        self._lock = threading.Lock()

    # -- events --------------------------------------------------------------------------
    def fetch(self, event: FetchEvent) -> None:
        self._emit("fetch", asdict(event), self._fetch_text(event))

    def run(self, event: RunEvent) -> None:
        self._emit("source", asdict(event), self._run_text(event))

    def error(self, source: str, url: str | None, kind: str, message: str) -> None:
        """A page that was fetched but could not be used (no article, unreadable feed...)."""
        self._emit("error", {"source": source, "url": url, "kind": kind, "message": message},
                   f"error  {source} {kind} {url or '-'}  {message}")

    def info(self, message: str, **fields: Any) -> None:
        text = message + "".join(f" {k}={v}" for k, v in fields.items())
        self._emit("info", {"message": message, **fields}, text)

    # -- formatting ----------------------------------------------------------------------
    def _fetch_text(self, e: FetchEvent) -> str:
        status = str(e.status) if e.status is not None else "---"
        line = (f"fetch  {e.source or '-'} {status} {human_bytes(e.bytes)} {e.ms:.0f}ms {e.url}")
        if e.final_url and e.final_url != e.url:
            line += f" -> {e.final_url}"
        if e.error:
            line += f"  error: {e.error}"
        return line

    def _run_text(self, e: RunEvent) -> str:
        line = (f"source {e.source} {e.status} {e.new} new/{e.entries} entries "
                f"{e.errors} error{'s' * (e.errors != 1)} {e.ms:.0f}ms")
        if e.next_check:
            line += f" next {e.next_check} (every {human_seconds(e.interval)}"
            line += f", {e.reason})" if e.reason and e.reason != "interval" else ")"
        if e.error:
            line += f"  error: {e.error}"
        return line

    def _emit(self, event: str, fields: dict[str, Any], text: str) -> None:
        ts = self.clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if self.fmt == "json":
            line = json.dumps({"ts": ts, "event": event, **fields}, ensure_ascii=False,
                              default=str)
        else:
            line = f"{ts} {text}"
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # closed pipe / stream: logging must never kill a run
                pass
