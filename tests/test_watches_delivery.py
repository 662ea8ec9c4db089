"""Watches: config validation, matching against newly stored articles, delivery to a JSONL
file and to a webhook received by a loopback server (also after two failures), never
blocking the caller, and refusing addresses the fetch rules refuse."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from outputs_data import article, make_store, save

from aggregator.errors import ConfigError
from aggregator.fetch import FetchSettings
from aggregator.models import Attribution, Source
from aggregator.watches import (
    Deliverer,
    close_listeners,
    make_listeners,
    match_article,
    parse_watches,
)

SRC = {name: Source(name, name.title(), "feed", f"https://{name}.example/feed", 3600)
       for name in ("camerablog", "magazine", "wire")}


class Hook:
    """A loopback webhook receiver: answers with the queued statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None, gate: threading.Event | None = None):
        self.statuses = list(statuses or [])
        self.gate = gate
        self.received: list[dict] = []
        self.headers: list[dict] = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.gate is not None:
                    hook.gate.wait(10)
                status = hook.statuses.pop(0) if hook.statuses else 200
                if status == 200:
                    hook.received.append(json.loads(body))
                    hook.headers.append(dict(self.headers.items()))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def store(tmp_path: Path):
    s = make_store(tmp_path, xss=False)
    yield s
    s.close()


def _settings(watches, allow=("127.0.0.1",)):
    return SimpleNamespace(watches=watches, fetch=FetchSettings(allow_private=allow))


def _new(store, n: int, source: str = "magazine", **kw):
    art = article(n, source=source, **kw)
    return save(store, art, source), art


# -- config -------------------------------------------------------------------------------
def test_parse_watches_valid(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    watches = parse_watches([
        {"name": "k9", "query": 'kestrel "stacked sensor"', "sources": ["magazine"],
         "cites": ["Digital Camera World"], "quoted": "Ines Varga",
         "webhook": "https://hooks.example/x", "jsonl": "alerts/k9.jsonl"},
        {"name": "lenses", "query": "lens*", "jsonl": "/tmp/abs.jsonl"},
    ], str(cfg))
    assert [w.name for w in watches] == ["k9", "lenses"]
    assert watches[0].quoted == ("Ines Varga",) and watches[0].sources == ("magazine",)
    assert watches[0].jsonl == str(tmp_path / "alerts" / "k9.jsonl")
    assert watches[1].jsonl == "/tmp/abs.jsonl" and watches[1].webhook is None
    assert parse_watches([], str(cfg)) == ()


@pytest.mark.parametrize("entry, field", [
    ({"query": "x", "jsonl": "a"}, "watches[0].name"),
    ({"name": "Bad Name", "query": "x", "jsonl": "a"}, "watches[0].name"),
    ({"name": "w", "jsonl": "a"}, "watches[0] (w).query"),
    ({"name": "w", "query": "-only", "jsonl": "a"}, "watches[0] (w).query"),
    ({"name": "w", "query": "x"}, "watches[0] (w).webhook"),
    ({"name": "w", "query": "x", "webhook": "ftp://h/x"}, "watches[0] (w).webhook"),
    ({"name": "w", "query": "x", "webhook": "not a url"}, "watches[0] (w).webhook"),
    ({"name": "w", "query": "x", "jsonl": ""}, "watches[0] (w).jsonl"),
    ({"name": "w", "query": "x", "jsonl": "a", "sources": [1]}, "watches[0] (w).sources"),
    ({"name": "w", "query": "x", "jsonl": "a", "colour": "red"}, "watches[0] (w).colour"),
    ("just a string", "watches[0]"),
])
def test_parse_watches_errors(entry, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_watches([entry], "config/sources.toml")
    assert info.value.file == "config/sources.toml"
    assert info.value.field == field
    assert "config/sources.toml" in str(info.value)


def test_duplicate_watch_names() -> None:
    with pytest.raises(ConfigError, match="duplicate"):
        parse_watches([{"name": "w", "query": "x", "jsonl": "a"},
                       {"name": "w", "query": "y", "jsonl": "b"}], "c.toml")


# -- matching -----------------------------------------------------------------------------
def test_match_filters(store) -> None:
    (w_plain, w_src, w_cites, w_quoted, w_miss) = parse_watches([
        {"name": "a", "query": "kestrel sensor", "jsonl": "x"},
        {"name": "b", "query": "kestrel", "sources": ["wire"], "jsonl": "x"},
        {"name": "c", "query": "kestrel", "cites": ["digital camera world"], "jsonl": "x"},
        {"name": "d", "query": "kestrel", "quoted": ["Ines  Varga"], "jsonl": "x"},
        {"name": "e", "query": "leica", "jsonl": "x"},
    ], "c.toml")
    cite = (Attribution("source", "Digital Camera World", role="reports"),
            Attribution("quote", "Ines Varga", text="Fast"))
    aid, art = _new(store, 50, attributions=cite)
    assert match_article(store, w_plain, aid, art, "magazine")
    assert not match_article(store, w_src, aid, art, "magazine")
    assert match_article(store, w_cites, aid, art, "magazine")
    assert match_article(store, w_quoted, aid, art, "magazine")
    assert not match_article(store, w_miss, aid, art, "magazine")
    aid2, art2 = _new(store, 51, source="wire")
    assert match_article(store, w_src, aid2, art2, "wire")
    assert not match_article(store, w_cites, aid2, art2, "wire")
    assert not match_article(store, w_quoted, aid2, art2, "wire")


def test_watch_names_match_like_the_search_name_filters(store) -> None:
    """Accents and case folded, whole words in order: "Leica" is cited by "Leica Camera AG",
    "celine marchetti" quotes "Céline Marchetti"; "Leic" and "Marchetti Céline" do not match."""
    attrs = (Attribution("press_release", "Leica Camera AG"),
             Attribution("quote", "Céline Marchetti", text="Fast"))
    aid, art = _new(store, 52, attributions=attrs)
    found = {w.name for w in parse_watches([
        {"name": "leica", "query": "kestrel", "cites": ["Leica"], "jsonl": "x"},
        {"name": "leic", "query": "kestrel", "cites": ["Leic"], "jsonl": "x"},
        {"name": "celine", "query": "kestrel", "quoted": ["celine MARCHETTI"], "jsonl": "x"},
        {"name": "order", "query": "kestrel", "quoted": ["Marchetti Céline"], "jsonl": "x"},
    ], "c.toml") if match_article(store, w, aid, art, "magazine")}
    assert found == {"leica", "celine"}


# -- delivery -----------------------------------------------------------------------------
def test_jsonl_delivery(store, tmp_path: Path) -> None:
    out = tmp_path / "alerts" / "k.jsonl"
    watches = parse_watches([{"name": "k", "query": "kestrel", "jsonl": str(out)}], "c.toml")
    listeners = make_listeners(_settings(watches), store)
    for n in (60, 61):
        aid, art = _new(store, n)
        for listener in listeners:
            listener(aid, art, SRC["magazine"])
    aid, art = _new(store, 62, title="Lens roundup", text="Nothing about that maker.")
    listeners[0](aid, art, SRC["magazine"])
    assert close_listeners(listeners, timeout=10)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["article"]["title"] for r in rows] == ["Article 60: Kestrel sensor news",
                                                     "Article 61: Kestrel sensor news"]
    assert rows[0]["watch"] == "k" and rows[0]["query"] == "kestrel"
    assert rows[0]["article"]["source"] == "magazine" and "text" not in rows[0]["article"]


def test_webhook_retries_with_backoff_after_two_failures(store) -> None:
    hook = Hook(statuses=[503, 500])
    sleeps: list[float] = []
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        listeners = make_listeners(_settings(watches), store, sleep=sleeps.append)
        aid, art = _new(store, 70)
        listeners[0](aid, art, SRC["magazine"])
        assert close_listeners(listeners, timeout=10)
    finally:
        hook.close()
    assert sleeps == [1.0, 2.0]  # exponential backoff, injected sleep: no waiting
    assert len(hook.received) == 1
    body = hook.received[0]
    assert body["watch"] == "k" and body["article"]["id"] == aid
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert hook.headers[0]["X-Aggregator-Watch"] == "k"
    stats = listeners[0].deliverer.stats
    assert stats.delivered == 1 and stats.failed == 0 and stats.attempts == 3


def test_webhook_gives_up_and_does_not_retry_4xx(store) -> None:
    hook = Hook(statuses=[500] * 10)
    hook2 = Hook(statuses=[404])
    sleeps: list[float] = []
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url},
                                 {"name": "m", "query": "kestrel", "webhook": hook2.url}],
                                "c.toml")
        deliverer = Deliverer(allow_private=("127.0.0.1",), retries=3, sleep=sleeps.append)
        listeners = make_listeners(_settings(watches), store, deliverer=deliverer)
        aid, art = _new(store, 71)
        listeners[0](aid, art, SRC["magazine"])
        assert close_listeners(listeners, timeout=10)
    finally:
        hook.close()
        hook2.close()
    assert sleeps == [1.0, 2.0, 4.0]
    # the 404 is given up for good; the 500s leave the alert pending for the next crawl
    assert deliverer.stats.failed == 1 and deliverer.stats.pending == 1
    assert deliverer.stats.delivered == 0
    assert any("HTTP 500" in e for e in deliverer.stats.errors)
    assert any("HTTP 404" in e for e in deliverer.stats.errors)


def test_listener_never_blocks_the_crawl(store) -> None:
    gate = threading.Event()
    hook = Hook(gate=gate)
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        listeners = make_listeners(_settings(watches), store)
        started = time.monotonic()
        for n in range(80, 85):
            aid, art = _new(store, n)
            listeners[0](aid, art, SRC["magazine"])
        elapsed = time.monotonic() - started
        assert elapsed < 1.0  # the receiver is stuck, the listener is not
        assert hook.received == []
        gate.set()
        assert close_listeners(listeners, timeout=10)
    finally:
        gate.set()
        hook.close()
    assert len(hook.received) == 5


def test_webhook_address_rules(store) -> None:
    # 127.0.0.2 is loopback: refused unless allow_private lists it; nothing is sent
    watches = parse_watches([{"name": "k", "query": "kestrel",
                              "webhook": "http://127.0.0.2:9/hook"},
                             {"name": "n", "query": "kestrel",
                              "webhook": "http://2130706433:9/hook"}], "c.toml")
    sleeps: list[float] = []
    listeners = make_listeners(_settings(watches, allow=()), store, sleep=sleeps.append)
    aid, art = _new(store, 90)
    listeners[0](aid, art, SRC["magazine"])
    assert close_listeners(listeners, timeout=10)
    stats = listeners[0].deliverer.stats
    assert stats.failed == 2 and stats.delivered == 0 and sleeps == []
    assert any("loopback" in e for e in stats.errors), stats.errors
    assert any("numeric host" in e for e in stats.errors), stats.errors


def test_no_watches_no_listeners(store) -> None:
    assert make_listeners(SimpleNamespace(fetch=FetchSettings()), store) == []
    assert make_listeners(_settings(()), store) == []


def test_full_queue_drops_instead_of_blocking(store) -> None:
    gate = threading.Event()
    hook = Hook(gate=gate)
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        deliverer = Deliverer(allow_private=("127.0.0.1",), max_queue=2)
        listeners = make_listeners(_settings(watches), store, deliverer=deliverer)
        started = time.monotonic()
        for n in range(120, 128):
            aid, art = _new(store, n)
            listeners[0](aid, art, SRC["magazine"])
        assert time.monotonic() - started < 1.0
        gate.set()
        assert close_listeners(listeners, timeout=10)
    finally:
        gate.set()
        hook.close()
    stats = deliverer.stats
    assert stats.delivered + stats.pending == 8 and stats.failed == 0
    assert stats.pending >= 1 and any("queue full" in e for e in stats.errors)
    assert len(hook.received) == stats.delivered
    # what did not fit in the queue is still in the outbox
    assert _outbox(store) == [("k", "pending")] * stats.pending


# -- a webhook that is down: the outbox -----------------------------------------------------
def _outbox(store) -> list[tuple[str, str]]:
    return [tuple(r) for r in store.conn.execute(
        "SELECT watch, status FROM watch_outbox ORDER BY id").fetchall()]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def test_webhook_down_keeps_every_alert_and_sends_them_next_run(store, tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    hook = Hook(statuses=[500] * 100)
    sleeps: list[float] = []
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url,
                                  "jsonl": str(out)}], "c.toml")
        listeners = make_listeners(_settings(watches), store, sleep=sleeps.append)
        ids = []
        for n in range(200, 217):  # 17 matches
            aid, art = _new(store, n)
            ids.append(aid)
            listeners[0](aid, art, SRC["magazine"])
        # the JSONL lines do not wait for the webhook
        assert len(out.read_text(encoding="utf-8").splitlines()) == 17
        assert close_listeners(listeners, timeout=10)
        stats = listeners[0].deliverer.stats
        # one alert used up its retries; the others were not tried against a dead webhook
        assert sleeps == [1.0, 2.0, 4.0, 8.0]
        assert stats.attempts == 5 and stats.delivered == 17 and stats.pending == 17
        assert stats.failed == 0 and any("HTTP 500" in e for e in stats.errors)
        assert _outbox(store) == [("k", "pending")] * 17
        assert hook.received == []

        hook.statuses.clear()  # the receiver is back: the next run sends what was kept
        again = make_listeners(_settings(watches), store, sleep=sleeps.append)
        assert close_listeners(again, timeout=10)
    finally:
        hook.close()
    assert [b["article"]["id"] for b in hook.received] == ids
    stats = again[0].deliverer.stats
    assert stats.retried == 17 and stats.delivered == 17 and stats.pending == 0
    assert _outbox(store) == []
    assert len(out.read_text(encoding="utf-8").splitlines()) == 17  # no duplicate lines


def test_refused_connection_is_kept_then_delivered(store) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/hook"
    sleeps: list[float] = []
    watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": dead}], "c.toml")
    listeners = make_listeners(_settings(watches), store, sleep=sleeps.append)
    aid, art = _new(store, 230)
    listeners[0](aid, art, SRC["magazine"])
    assert close_listeners(listeners, timeout=10)
    stats = listeners[0].deliverer.stats
    assert stats.pending == 1 and sleeps == [1.0, 2.0, 4.0, 8.0]
    assert any("ConnectError" in e for e in stats.errors), stats.errors
    row = store.conn.execute("SELECT attempts, last_error FROM watch_outbox").fetchone()
    assert row[0] == 5 and "ConnectError" in row[1]

    hook = Hook(statuses=[503])  # the watch now points at a receiver that fails once
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        again = make_listeners(_settings(watches), store, sleep=sleeps.append)
        assert close_listeners(again, timeout=10)
    finally:
        hook.close()
    assert [b["article"]["id"] for b in hook.received] == [aid]
    assert _outbox(store) == []


def test_permanent_failure_is_marked_not_retried(store) -> None:
    hook = Hook(statuses=[410])
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        listeners = make_listeners(_settings(watches), store, sleep=lambda _s: None)
        aid, art = _new(store, 240)
        listeners[0](aid, art, SRC["magazine"])
        assert close_listeners(listeners, timeout=10)
        assert _outbox(store) == [("k", "failed")]
        again = make_listeners(_settings(watches), store, sleep=lambda _s: None)
        assert close_listeners(again, timeout=10)
    finally:
        hook.close()
    assert hook.received == [] and again[0].deliverer.stats.retried == 0


def test_v1_database_gains_the_outbox(tmp_path: Path) -> None:
    import sqlite_utils

    from aggregator.store import Store
    from aggregator.store.schema import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[1](db)
    db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    db.conn.commit()
    db.close()
    with Store.open(path) as s:
        assert "watch_outbox" in s.db.table_names()
        version = s.conn.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == str(SCHEMA_VERSION)


def test_retry_pending_skips_rows_still_queued(store) -> None:
    gate = threading.Event()
    hook = Hook(gate=gate)
    try:
        watches = parse_watches([{"name": "k", "query": "kestrel", "webhook": hook.url}],
                                "c.toml")
        listeners = make_listeners(_settings(watches), store, sleep=lambda _s: None)
        for n in (250, 251):
            aid, art = _new(store, n)
            listeners[0](aid, art, SRC["magazine"])
        assert listeners[0].retry_pending() == 0  # both are queued or in flight already
        gate.set()
        assert close_listeners(listeners, timeout=10)
    finally:
        gate.set()
        hook.close()
    assert len(hook.received) == 2 and _outbox(store) == []
