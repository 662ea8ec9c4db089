"""Watches: named full-text queries checked against every newly stored article.

Config (``[[watches]]`` entries, validated by ``parse_watches``)::

    [[watches]]
    name = "leica-sensors"                  # required, like a source name
    query = 'leica AND sensor'              # required, the search syntax of `aggregator search`
    sources = ["camerablog", "magazine"]    # optional: only articles from these sources
    cites = ["Digital Camera World"]        # optional: the article cites one of these outlets
    quoted = ["Anna Berger"]                # optional: the article quotes one of these people
    webhook = "https://hooks.example/x"     # a JSON POST per match, and/or
    jsonl = "alerts/leica.jsonl"            # a JSON line appended per match

``make_listeners(settings, store)`` gives the crawl listeners (``Crawler(listeners=...)``).
A listener runs in the crawl: it checks the article with one FTS query restricted to that
article's rowid plus the filters, and hands any delivery to a background ``Deliverer``
thread, so the crawl never waits on a webhook or a file. The deliverer POSTs through the
project's guarded transport (the same address rules as fetching: public addresses only,
unless ``[fetch] allow_private`` lists the address), never follows redirects, and retries
failures (connection errors, timeouts, 408/425/429/5xx) with exponential backoff; ``sleep``
is injectable so tests do not wait. ``close_listeners(listeners)`` drains the queue at the end
of a crawl (bounded by a timeout).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from aggregator.errors import AggregatorError, ConfigError, QueryError
from aggregator.models import Article, Source

log = logging.getLogger(__name__)

__all__ = [
    "Deliverer", "Delivery", "Watch", "WatchListener", "close_listeners", "make_listeners",
    "match_article", "parse_watches",
]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEYS = {"name", "query", "sources", "cites", "quoted", "webhook", "jsonl"}
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
Listener = Callable[[int, Article, Source], None]


@dataclass(frozen=True)
class Watch:
    name: str
    query: str
    fts: str  # the parsed FTS5 MATCH expression
    sources: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    quoted: tuple[str, ...] = ()
    webhook: str | None = None
    jsonl: str | None = None


def _str_list(raw: Mapping[str, Any], key: str, file: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError("expected a list of non-empty strings", file=file,
                          field=f"{where}.{key}")
    return tuple(v.strip() for v in value)


def parse_watches(raw: list, file: str, *, base_dir: str | Path | None = None
                  ) -> tuple[Watch, ...]:
    """Validate ``[[watches]]`` entries. Raises ConfigError naming file and field.

    A relative ``jsonl`` path is taken relative to ``base_dir`` (default: the config file's
    folder).
    """
    from aggregator.config import check_url
    from aggregator.search.query import parse_query

    if not isinstance(raw, list):
        raise ConfigError("expected [[watches]] entries", file=file, field="watches")
    base = Path(base_dir) if base_dir is not None else Path(file).resolve().parent
    out: list[Watch] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"watches[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError("expected a table", file=file, field=where)
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError("name must be 1-64 characters of a-z, 0-9, '-' or '_'",
                              file=file, field=f"{where}.name")
        where = f"watches[{index}] ({name})"
        for key in entry:
            if key not in _KEYS:
                raise ConfigError(f"unknown key (allowed: {', '.join(sorted(_KEYS))})",
                                  file=file, field=f"{where}.{key}")
        if name in seen:
            raise ConfigError("duplicate watch name", file=file, field=f"{where}.name")
        seen.add(name)
        query = entry.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ConfigError("required: a search query", file=file, field=f"{where}.query")
        try:
            fts = parse_query(query).fts
        except QueryError as exc:
            raise ConfigError(exc.reason, file=file, field=f"{where}.query") from None
        webhook = entry.get("webhook")
        if webhook is not None:
            try:
                webhook = check_url(webhook)
            except ValueError as exc:
                raise ConfigError(str(exc), file=file, field=f"{where}.webhook") from None
        jsonl = entry.get("jsonl")
        if jsonl is not None:
            if not isinstance(jsonl, str) or not jsonl.strip():
                raise ConfigError("expected a file path", file=file, field=f"{where}.jsonl")
            path = Path(jsonl.strip()).expanduser()
            jsonl = str(path if path.is_absolute() else base / path)
        if webhook is None and jsonl is None:
            raise ConfigError("a watch needs a webhook URL, a jsonl file, or both",
                              file=file, field=f"{where}.webhook")
        out.append(Watch(
            name=name, query=query.strip(), fts=fts,
            sources=_str_list(entry, "sources", file, where),
            cites=_str_list(entry, "cites", file, where),
            quoted=_str_list(entry, "quoted", file, where),
            webhook=webhook, jsonl=jsonl,
        ))
    return tuple(out)


# -- matching -----------------------------------------------------------------------------
def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def match_article(store: Any, watch: Watch, article_id: int, article: Article,
                  source_name: str) -> bool:
    """Does the stored article ``article_id`` match ``watch``? (one indexed FTS lookup)"""
    if watch.sources and source_name not in watch.sources:
        return False
    if watch.cites:
        cited = {_fold(a.name) for a in article.attributions
                 if a.kind in ("source", "press_release")}
        if not cited & {_fold(c) for c in watch.cites}:
            return False
    if watch.quoted:
        quoted = {_fold(a.name) for a in article.attributions if a.kind == "quote"}
        if not quoted & {_fold(q) for q in watch.quoted}:
            return False
    row = store.conn.execute(
        "SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? AND rowid = ?",
        (watch.fts, article_id),
    ).fetchone()
    return row is not None


# -- delivery -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    watch: Watch
    payload: dict[str, Any]


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed: int = 0
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    """A background thread that appends JSON lines and POSTs webhooks, with retries.

    The queue is bounded (``max_queue``); when it is full a delivery is dropped and
    counted as failed, so a receiver that is down for long never blocks the crawl.

    ``retries`` extra attempts after the first, waiting ``backoff * 2**n`` seconds
    (capped at ``max_backoff``) through ``sleep``.
    """

    def __init__(self, *, allow_private: Iterable[str] = (), timeout: float = 10.0,
                 retries: int = 4, backoff: float = 1.0, max_backoff: float = 60.0,
                 user_agent: str = "aggregator-watch/0.1", max_queue: int = 10_000,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.allow_private = tuple(allow_private)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent
        self.sleep = sleep
        self.stats = DeliveryStats()
        self._queue: queue.Queue[Delivery | None] = queue.Queue(max_queue)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._file_lock = threading.Lock()

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery; returns at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="watch-deliverer",
                                                daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:  # a receiver down for long: drop rather than block the crawl
            self._fail(delivery, "delivery queue full, dropped")

    def close(self, timeout: float = 30.0) -> bool:
        """Finish queued deliveries (waiting up to ``timeout``); True if all were done."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is None:
            return True
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return False
        thread.join(max(0.0, deadline - time.monotonic()))
        return not thread.is_alive()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        client: httpx.AsyncClient | None = None
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                try:
                    if job.watch.jsonl:
                        self._append(job)
                    if job.watch.webhook:
                        if client is None:
                            client = self._client()
                        loop.run_until_complete(self._post(client, job))
                except Exception as exc:  # never let one delivery kill the thread
                    self._fail(job, f"{type(exc).__name__}: {exc}")
        finally:
            if client is not None:
                loop.run_until_complete(client.aclose())
            loop.close()

    def _client(self) -> httpx.AsyncClient:
        from aggregator.fetch.guard import GuardedTransport

        return httpx.AsyncClient(
            transport=GuardedTransport(self.allow_private), follow_redirects=False,
            timeout=httpx.Timeout(self.timeout), trust_env=False,
            headers={"User-Agent": self.user_agent},
        )

    def _append(self, job: Delivery) -> None:
        assert job.watch.jsonl
        line = json.dumps(job.payload, ensure_ascii=False) + "\n"
        path = Path(job.watch.jsonl)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._file_lock:
            # one write() of a whole line, O_APPEND: lines never interleave
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        self.stats.delivered += 1

    async def _post(self, client: httpx.AsyncClient, job: Delivery) -> None:
        from aggregator.fetch.guard import check_url

        assert job.watch.webhook
        url = httpx.URL(job.watch.webhook)
        from aggregator.fetch.guard import parse_allowed

        check_url(url, parse_allowed(self.allow_private))
        body = json.dumps(job.payload, ensure_ascii=False).encode("utf-8")
        last = ""
        for attempt in range(self.retries + 1):
            self.stats.attempts += 1
            try:
                resp = await client.post(url, content=body, headers={
                    "Content-Type": "application/json", "X-Aggregator-Watch": job.watch.name})
            except AggregatorError as exc:  # blocked address: no retry
                self._fail(job, str(exc))
                return
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= resp.status_code < 300:
                    self.stats.delivered += 1
                    return
                last = f"HTTP {resp.status_code}"
                if resp.status_code not in RETRY_STATUSES:
                    break
            if attempt < self.retries:
                self.sleep(min(self.max_backoff, self.backoff * 2 ** attempt))
        self._fail(job, last)

    def _fail(self, job: Delivery, message: str) -> None:
        self.stats.failed += 1
        text = f"watch {job.watch.name}: delivery to {job.watch.webhook or job.watch.jsonl} " \
               f"failed: {message}"
        self.stats.errors.append(text)
        log.warning("%s", text)


class WatchListener:
    """The crawl listener for a set of watches: ``(article_id, article, source) -> None``."""

    def __init__(self, watches: Sequence[Watch], store: Any, deliverer: Deliverer, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.watches = tuple(watches)
        self.store = store
        self.deliverer = deliverer
        self.clock = clock
        self.matches: int = 0

    def __call__(self, article_id: int, article: Article, source: Source) -> None:
        for watch in self.watches:
            try:
                if not match_article(self.store, watch, article_id, article, source.name):
                    continue
            except Exception as exc:  # a broken watch must not break the crawl
                log.warning("watch %s: cannot check article %s: %s", watch.name,
                            article_id, exc)
                continue
            self.matches += 1
            self.deliverer.submit(Delivery(watch, self._payload(watch, article_id, article,
                                                                source)))

    def _payload(self, watch: Watch, article_id: int, article: Article,
                 source: Source) -> dict[str, Any]:
        from aggregator.export import article_json

        stored = None
        try:
            stored = self.store.article(article_id)
        except Exception:  # the payload can be built from the model alone
            stored = None
        if stored is not None:
            data = article_json(stored)
            data.pop("text", None)
        else:
            data = {"id": article_id, "url": article.url,
                    "canonical_url": article.canonical_url or article.url,
                    "source": source.name, "title": article.title,
                    "authors": list(article.authors),
                    "published": article.published.isoformat() if article.published else None}
        return {"watch": watch.name, "query": watch.query,
                "matched_at": self.clock().astimezone(UTC).isoformat(timespec="seconds"),
                "article": data}

    def close(self, timeout: float = 30.0) -> bool:
        return self.deliverer.close(timeout)


def make_listeners(settings: Any, store: Any, *, sleep: Callable[[float], None] = time.sleep,
                   deliverer: Deliverer | None = None) -> list[Listener]:
    """Crawl listeners for ``settings.watches`` (none if there are no watches)."""
    watches = tuple(getattr(settings, "watches", ()) or ())
    if not watches:
        return []
    fetch = getattr(settings, "fetch", None)
    if deliverer is None:
        deliverer = Deliverer(
            allow_private=getattr(fetch, "allow_private", ()) if fetch else (),
            user_agent=getattr(fetch, "user_agent", "aggregator-watch/0.1") if fetch
            else "aggregator-watch/0.1",
            sleep=sleep,
        )
    return [WatchListener(watches, store, deliverer)]


def close_listeners(listeners: Iterable[object], timeout: float = 30.0) -> bool:
    """Drain every listener that has a ``close`` (call after the crawl). True if all done."""
    ok = True
    for listener in listeners:
        close = getattr(listener, "close", None)
        if callable(close):
            ok = bool(close(timeout)) and ok
    return ok
