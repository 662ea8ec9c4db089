"""Watches: named full-text queries checked against every newly stored article.

Config (``[[watches]]`` entries, validated by ``parse_watches``)::

    [[watches]]
    name = "leica-sensors"                  # required, like a source name
    query = 'leica AND sensor'              # required, the search syntax of `aggregator search`
    sources = ["camerablog", "magazine"]    # optional: only articles from these sources
    cites = ["Digital Camera World"]        # optional: the article cites one of these outlets
    quoted = ["Anna Berger"]                # optional: the article quotes one of these people
                                            # (names match as `search --cites/--quoted` do:
                                            # whole words, case and accents folded)
    webhook = "https://hooks.example/x"     # a JSON POST per match, and/or
    jsonl = "alerts/leica.jsonl"            # a JSON line appended per match

``make_listeners(settings, store)`` gives the crawl listeners (``Crawler(listeners=...)``).
A listener runs in the crawl: it checks the article with one FTS query restricted to that
article's rowid plus the filters. A match is appended to the JSONL file at once (a local
file), and its webhook alert is written to the ``watch_outbox`` table and handed to a
background ``Deliverer`` thread, so the crawl never waits on a webhook. Alerts a webhook did
not take stay in the outbox and are sent again on the next crawl. The deliverer POSTs through the
project's guarded transport (the same address rules as fetching: public addresses only,
unless ``[fetch] allow_private`` lists the address), never follows redirects, and retries
failures (connection errors, timeouts, 408/425/429/5xx) with exponential backoff; ``sleep``
is injectable so tests do not wait. ``close_listeners(listeners)`` drains the queue at the end
of a crawl (bounded by a timeout); ``delivery_stats(listeners)`` gives what was delivered,
failed and left pending, for the crawl summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import re
import sqlite3
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
from aggregator.search.normalize import fold_name

log = logging.getLogger(__name__)

__all__ = [
    "Deliverer", "Delivery", "DeliveryStats", "Watch", "WatchListener", "close_listeners",
    "delivery_stats", "make_listeners", "match_article", "parse_watches",
]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KEYS = {"name", "query", "sources", "cites", "quoted", "webhook", "jsonl"}
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
Listener = Callable[[int, Article, Source], None]
#: The wait between webhook retries when no ``sleep`` is given (tests replace it).
SLEEP: Callable[[float], None] = time.sleep


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
def _words(name: str) -> str:
    """A name's words, folded as the name filters fold them (case, accents), space-joined
    and framed by spaces, so that a containment test matches whole words only."""
    return " " + " ".join(_WORD.findall(fold_name(name))) + " "


_WORD = re.compile(r"\w+")


def _names_match(names: set[str], wanted: tuple[str, ...]) -> bool:
    """Does one of ``wanted`` occur, as whole words in order, in one of ``names``? The rule of
    ``search --cites/--quoted``: "Leica" matches "Leica Camera AG", "celine" "Céline Marchetti"."""
    targets = [w for w in (_words(x) for x in wanted) if w.strip()]
    return any(t in n for n in names for t in targets)


def match_article(store: Any, watch: Watch, article_id: int, article: Article,
                  source_name: str) -> bool:
    """Does the stored article ``article_id`` match ``watch``? (one indexed FTS lookup)"""
    if watch.sources and source_name not in watch.sources:
        return False
    if watch.cites:
        cited = {_words(a.name) for a in article.attributions
                 if a.kind in ("source", "press_release")}
        if not _names_match(cited, watch.cites):
            return False
    if watch.quoted:
        quoted = {_words(a.name) for a in article.attributions if a.kind == "quote"}
        if not _names_match(quoted, watch.quoted):
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
    outbox_id: int | None = None  # its row in ``watch_outbox`` (None: not persisted)


@dataclass
class DeliveryStats:
    delivered: int = 0  # JSONL lines written and webhook POSTs accepted
    failed: int = 0  # given up for good: a 4xx, a refused address, an unwritable file
    pending: int = 0  # webhook alerts left in the outbox, retried on the next crawl
    retried: int = 0  # alerts taken from the outbox of an earlier crawl
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


class Deliverer:
    """A background thread that POSTs webhooks, with retries and backoff.

    Each webhook alert is first written to the ``watch_outbox`` table (by the listener, in
    the crawl); the thread deletes the row once the receiver accepts it, marks it failed on
    a permanent error (4xx other than 408/425/429, a refused address) and otherwise leaves
    it pending for the next crawl. After one alert has used up its retries on a webhook, the
    rest queued for that webhook in this run are not attempted (kept pending), so a receiver
    that is down costs one alert's retries, not every alert's.

    The queue is bounded (``max_queue``); when it is full an alert is left in the outbox
    rather than blocking the crawl. ``retry_down()`` lets the webhooks marked down be tried
    again (the daemon calls it, through ``WatchListener.retry_pending``, now and then).

    ``retries`` extra attempts after the first, waiting ``backoff * 2**n`` seconds
    (capped at ``max_backoff``) through ``sleep``.
    """

    def __init__(self, *, allow_private: Iterable[str] = (), timeout: float = 10.0,
                 retries: int = 4, backoff: float = 1.0, max_backoff: float = 60.0,
                 user_agent: str = "aggregator-watch/0.1", max_queue: int = 10_000,
                 sleep: Callable[[float], None] | None = None,
                 db_path: str | None = None) -> None:
        self.allow_private = tuple(allow_private)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent
        self.sleep = sleep if sleep is not None else SLEEP
        self.db_path = db_path
        self.stats = DeliveryStats()
        self._queue: queue.Queue[Delivery | None] = queue.Queue(max_queue)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._file_lock = threading.Lock()
        # webhook URL -> why it is treated as down (until retry_down() or a new deliverer)
        self._down: dict[str, str] = {}
        self._stopping = threading.Event()
        self._submitted = 0
        self._settled = 0
        self._queued: set[int] = set()  # outbox rows queued and not yet settled

    def submit(self, delivery: Delivery) -> bool:
        """Queue a webhook delivery; returns at once. False if that outbox row is queued
        already (nothing done)."""
        if delivery.outbox_id is not None:
            with self._stats_lock:
                if delivery.outbox_id in self._queued:
                    return False
                self._queued.add(delivery.outbox_id)
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="watch-deliverer",
                                                daemon=True)
                self._thread.start()
        with self._stats_lock:
            self._submitted += 1
        try:
            self._queue.put_nowait(delivery)
        except queue.Full:  # a receiver down for long: keep it for later, never block
            self._settle(delivery, "pending", "delivery queue full, kept for the next crawl")
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Finish queued deliveries (waiting up to ``timeout``); True if all were done.

        Alerts not delivered by then stay in the outbox and are counted as pending."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is None:
            return True
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        thread.join(max(0.0, deadline - time.monotonic()))
        if not thread.is_alive():
            return True
        self._stopping.set()  # the thread settles nothing more; the rows stay pending
        with self._stats_lock:
            left = self._submitted - self._settled
            self._settled = self._submitted
            self.stats.pending += left
            text = (f"watch alerts: {left} webhook deliveries unfinished after {timeout:g}s, "
                    "kept for the next crawl")
            self.stats.errors.append(text)
        log.warning("%s", text)
        return False

    def retry_down(self) -> None:
        """Forget which webhooks were found down: the next alert for each is tried again."""
        self._down.clear()

    def write_jsonl(self, watch: Watch, payload: dict[str, Any]) -> None:
        """Append one JSON line for ``watch`` now (a local file: no queue, no thread)."""
        assert watch.jsonl
        line = json.dumps(payload, ensure_ascii=False) + "\n"
        path = Path(watch.jsonl)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._file_lock:
                # one write() of a whole line, O_APPEND: lines never interleave
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode("utf-8"))
                finally:
                    os.close(fd)
        except OSError as exc:
            self._count("failed", f"watch {watch.name}: cannot append to {path}: "
                        f"{exc.strerror or exc}")
            return
        self._count("delivered")

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        client: httpx.AsyncClient | None = None
        deferred: dict[tuple[str, str], int] = {}
        try:
            while True:
                job = self._queue.get()
                if job is None or self._stopping.is_set():
                    break
                try:
                    assert job.watch.webhook
                    down = self._down.get(job.watch.webhook)
                    if down is not None:
                        # counted now, reported once per webhook when the thread ends
                        self._settle(job, "pending", quiet=True)
                        key = (job.watch.name, job.watch.webhook)
                        deferred[key] = deferred.get(key, 0) + 1
                        continue
                    if client is None:
                        client = self._client()
                    outcome, message, tries = loop.run_until_complete(self._post(client, job))
                    if outcome == "pending":
                        self._down[job.watch.webhook] = message
                        message = f"{message} after {tries} attempts; kept for the next crawl"
                    self._settle(job, outcome, message, tries)
                except Exception as exc:  # never let one delivery kill the thread
                    self._settle(job, "pending", f"{type(exc).__name__}: {exc}")
        finally:
            for (name, url), count in deferred.items():
                self._count("note", f"watch {name}: {count} more alert{'s' * (count != 1)} "
                            f"to {url} not attempted (webhook down); kept for the next crawl")
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

    async def _post(self, client: httpx.AsyncClient, job: Delivery) -> tuple[str, str, int]:
        """POST with retries: ("delivered" | "failed" | "pending", reason, attempts)."""
        from aggregator.fetch.guard import check_url, parse_allowed

        assert job.watch.webhook
        url = httpx.URL(job.watch.webhook)
        try:
            check_url(url, parse_allowed(self.allow_private))
        except AggregatorError as exc:
            return "failed", str(exc), 0
        body = json.dumps(job.payload, ensure_ascii=False).encode("utf-8")
        last = ""
        for attempt in range(self.retries + 1):
            self._count("attempt")
            try:
                resp = await client.post(url, content=body, headers={
                    "Content-Type": "application/json", "X-Aggregator-Watch": job.watch.name})
            except AggregatorError as exc:  # blocked address: no retry
                return "failed", str(exc), attempt + 1
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= resp.status_code < 300:
                    return "delivered", "", attempt + 1
                last = f"HTTP {resp.status_code}"
                if resp.status_code not in RETRY_STATUSES:
                    return "failed", last, attempt + 1
            if attempt < self.retries:
                self.sleep(min(self.max_backoff, self.backoff * 2 ** attempt))
        return "pending", last, self.retries + 1

    # -- bookkeeping -----------------------------------------------------------------------
    def _count(self, kind: str, message: str | None = None) -> None:
        with self._stats_lock:
            if kind == "attempt":
                self.stats.attempts += 1
            elif kind != "note":
                setattr(self.stats, kind, getattr(self.stats, kind) + 1)
            if message:
                self.stats.errors.append(message)
        if message:
            log.warning("%s", message)

    def _settle(self, job: Delivery, outcome: str, message: str = "", tries: int = 0, *,
                quiet: bool = False) -> None:
        """Record the outcome of one webhook alert, in the stats and in its outbox row."""
        if self._stopping.is_set():
            return  # close() gave up waiting and already counted it as pending
        with self._stats_lock:
            self._settled += 1
            if job.outbox_id is not None:
                self._queued.discard(job.outbox_id)
        text = None
        if outcome != "delivered" and not quiet:
            text = f"watch {job.watch.name}: delivery to {job.watch.webhook} " \
                   f"{'failed' if outcome == 'failed' else 'deferred'}: {message}"
        self._count(outcome, text)
        if job.outbox_id is None or not self.db_path or (outcome == "pending" and not tries):
            return  # not persisted, or not attempted: the row keeps its last attempt
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            try:
                if outcome == "delivered":
                    conn.execute("DELETE FROM watch_outbox WHERE id = ?", (job.outbox_id,))
                else:
                    conn.execute(
                        "UPDATE watch_outbox SET status = ?, attempts = attempts + ?, "
                        "last_attempt = ?, last_error = ? WHERE id = ?",
                        ("failed" if outcome == "failed" else "pending", tries,
                         now if tries else None, message, job.outbox_id))
            finally:
                conn.close()
        except sqlite3.Error as exc:  # the alert stays as it was in the outbox
            log.warning("watch %s: cannot update outbox row %s in %s: %s", job.watch.name,
                        job.outbox_id, self.db_path, exc)


class WatchListener:
    """The crawl listener for a set of watches: ``(article_id, article, source) -> None``.

    A match is appended to the watch's JSONL file at once, and its webhook alert is written
    to the outbox table and handed to the background deliverer."""

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
            payload = self._payload(watch, article_id, article, source)
            if watch.jsonl:
                self.deliverer.write_jsonl(watch, payload)
            if watch.webhook:
                self.deliverer.submit(Delivery(watch, payload, self._persist(watch, payload)))

    def _persist(self, watch: Watch, payload: dict[str, Any]) -> int | None:
        """Write the alert to the outbox; its row id (None if it could not be written)."""
        try:
            cur = self.store.conn.execute(
                "INSERT INTO watch_outbox (watch, webhook, payload, created, status, attempts)"
                " VALUES (?, ?, ?, ?, 'pending', 0)",
                (watch.name, watch.webhook, json.dumps(payload, ensure_ascii=False),
                 self.clock().astimezone(UTC).isoformat(timespec="seconds")))
        except (sqlite3.Error, AttributeError) as exc:
            log.warning("watch %s: cannot write the alert to the outbox: %s", watch.name, exc)
            return None
        return int(cur.lastrowid) if cur.lastrowid is not None else None

    def retry_pending(self) -> int:
        """Queue the outbox's pending alerts (of earlier runs, or held back in this one)
        for watches still configured with a webhook; rows already queued are skipped.
        Returns how many were queued."""
        hooks = {w.name: w for w in self.watches if w.webhook}
        if not hooks:
            return 0
        self.deliverer.retry_down()
        try:
            rows = self.store.conn.execute(
                "SELECT id, watch, payload FROM watch_outbox WHERE status = 'pending' "
                "ORDER BY id").fetchall()
        except (sqlite3.Error, AttributeError) as exc:
            log.warning("watches: cannot read the outbox: %s", exc)
            return 0
        queued = 0
        for row_id, name, payload in rows:
            watch = hooks.get(name)
            if watch is None:
                continue
            try:
                data = json.loads(payload)
            except ValueError:
                continue
            if self.deliverer.submit(Delivery(watch, data, int(row_id))):
                queued += 1
        with self.deliverer._stats_lock:
            self.deliverer.stats.retried += queued
        return queued

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


def make_listeners(settings: Any, store: Any, *, sleep: Callable[[float], None] | None = None,
                   deliverer: Deliverer | None = None) -> list[Listener]:
    """Crawl listeners for ``settings.watches`` (none if there are no watches). Webhook
    alerts left pending by an earlier run are queued again at once."""
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
    if deliverer.db_path is None:
        path = getattr(store, "path", None)
        deliverer.db_path = path if path and path != ":memory:" else None
    listener = WatchListener(watches, store, deliverer)
    listener.retry_pending()
    return [listener]


def delivery_stats(listeners: Iterable[object]) -> DeliveryStats | None:
    """The delivery stats of the watch listeners among ``listeners`` (None if none)."""
    found = [x.deliverer.stats for x in listeners if isinstance(x, WatchListener)]
    if not found:
        return None
    out = DeliveryStats()
    for st in found:
        out.delivered += st.delivered
        out.failed += st.failed
        out.pending += st.pending
        out.retried += st.retried
        out.attempts += st.attempts
        out.errors.extend(st.errors)
    return out


def close_listeners(listeners: Iterable[object], timeout: float = 30.0) -> bool:
    """Drain every listener that has a ``close`` (call after the crawl). True if all done."""
    ok = True
    for listener in listeners:
        close = getattr(listener, "close", None)
        if callable(close):
            ok = bool(close(timeout)) and ok
    return ok
