"""The daemon core against real loopback servers and a real SQLite file, with a fake clock.

The site here is generated per test (feeds whose items we control, pages the extractor
accepts) and served by the project's FixtureServer, so scenarios such as "the feed appears",
"new items are published" or "the server asks for a long cache time" are simple file edits.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from aggregator.config import parse_config
from aggregator.daemon import Daemon
from aggregator.fetch import Fetcher
from aggregator.fixture_server import FixtureServer
from aggregator.logs import RunLogger
from aggregator.scheduler import build_scheduler, run_once, serve
from aggregator.store import Store
from aggregator.store.schedule_state import load_schedules, recent_runs

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PARA = ("Paragraph {i} of the story about the new full-frame sensor that Kestrel Optics "
        "announced this week, with more readout speed and less rolling shutter than before.")


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def write_blog(root: Path, blog: str, items: list[tuple[int, datetime]], *,
               ttl: int | None = None) -> None:
    """A blog folder with an RSS feed listing ``items`` (number, published) and their pages."""
    folder = root / blog
    (folder / "posts").mkdir(parents=True, exist_ok=True)
    rss_items = []
    for n, published in items:
        url = f"{{{{BASE}}}}/{blog}/posts/{n}.html"
        rss_items.append(
            f"<item><title>{blog} story {n}</title><link>{url}</link><guid>{url}</guid>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>")
        body = "".join(f"<p>{PARA.format(i=i)} ({blog} {n})</p>" for i in range(5))
        (folder / "posts" / f"{n}.html").write_text(
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{blog} story {n}</title><meta name='author' content='Ana Example'></head>"
            f"<body><article><h1>{blog} story {n}</h1>"
            f"<time datetime='{published.isoformat()}'>{published:%d %b}</time>{body}"
            f"</article></body></html>", encoding="utf-8")
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    (folder / "feed.xml").write_text(
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{blog}</title><link>{{{{BASE}}}}/{blog}/</link>{ttl_tag}"
        + "".join(rss_items) + "</channel></rss>", encoding="utf-8")


def config_for(base: str, *sources: tuple[str, str, str], robots: bool = True) -> object:
    """Settings for (name, path or URL, interval) sources on the test server."""
    return parse_config({
        "fetch": {"allow_private": ["127.0.0.1"], "per_host_delay": 0.0, "retries": 0,
                  "timeout": 5.0, "per_host_concurrency": 4, "robots": robots},
        "sources": [{"name": n, "kind": "rss", "url": p if "://" in p else base + p,
                     "interval": i} for n, p, i in sources],
    })


@pytest.fixture()
def site(tmp_path: Path) -> Iterator[tuple[Path, FixtureServer]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    # a quiet blog: three items a few days apart
    write_blog(root, "quiet", [(i, T0 - timedelta(days=2 * i + 1)) for i in range(3)])
    # a busy blog: an item every 20 minutes
    write_blog(root, "busy", [(i, T0 - timedelta(minutes=20 * i)) for i in range(12)])
    with FixtureServer(root) as server:
        yield root, server


class Harness:
    """A Daemon with a fake clock, a seeded rng and a log captured as JSON lines."""

    def __init__(self, settings: object, db: Path, clock: FakeClock, seed: int = 1) -> None:
        import io

        self.settings, self.db, self.clock = settings, db, clock
        self.out = io.StringIO()
        self.seed = seed

    async def __aenter__(self) -> Daemon:
        self.store = Store.open(self.db)
        self.fetcher = Fetcher(self.settings.fetch)  # type: ignore[attr-defined]
        await self.fetcher.__aenter__()
        self.daemon = Daemon(self.settings, self.store, self.fetcher,  # type: ignore[arg-type]
                             clock=self.clock, rng=random.Random(self.seed),
                             log=RunLogger(self.out, "json", clock=self.clock))
        return self.daemon

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.__aexit__(None, None, None)
        self.store.close()

    def events(self, kind: str) -> list[dict]:
        return [e for e in map(json.loads, self.out.getvalue().splitlines())
                if e["event"] == kind]


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


# -- on schedule ----------------------------------------------------------------------------
def test_sources_are_crawled_on_schedule(site: tuple[Path, FixtureServer], tmp_path: Path
                                         ) -> None:
    root, server = site
    settings = config_for(server.base_url, ("quiet", "/quiet/feed.xml", "10m"),
                          ("busy", "/busy/feed.xml", "10m"))
    clock = FakeClock()
    h = Harness(settings, tmp_path / "a.db", clock)

    async def scenario() -> None:
        async with h as daemon:
            plan = daemon.start(spread=0)
            assert set(plan.values()) == {T0}
            results = {r.source: r for r in await daemon.run_due()}
            assert set(results) == {"quiet", "busy"}
            assert results["quiet"].new == 3 and results["busy"].new == 12
            # nothing is due a minute later
            clock.advance(60)
            assert daemon.due() == [] and await daemon.run_due() == []
            # the busy blog (an item every 20 min) is checked every ~10 min (its minimum is
            # 150 s, the adaptive value 10 min); the quiet one later (6 items a week or less)
            busy_at, quiet_at = daemon.plan["busy"], daemon.plan["quiet"]
            assert busy_at < quiet_at
            assert timedelta(minutes=8) <= busy_at - T0 <= timedelta(minutes=12)
            assert quiet_at - T0 >= timedelta(minutes=13)
            # the stored schedule is the planned one
            stored = load_schedules(daemon.store)
            assert stored["busy"].next_check == busy_at
            assert stored["busy"].current_interval == round(daemon.intervals["busy"])
            # at the busy blog's time only it runs, and finds nothing new (304)
            server.reset_hits()
            clock.now = busy_at
            again = await daemon.run_due()
            assert [(r.source, r.status, r.new) for r in again] == [("busy", "not-modified", 0)]
            assert server.hit_count("/busy/feed.xml") == 1
            assert server.hit_count("/quiet/feed.xml") == 0
            # new items published: found on the next check
            write_blog(root, "busy", [(i, clock.now - timedelta(minutes=20 * (i - 12)))
                                      for i in range(12, 15)] +
                       [(i, T0 - timedelta(minutes=20 * i)) for i in range(12)])
            clock.now = daemon.plan["busy"]
            (r,) = await daemon.run_due()
            assert (r.source, r.status, r.new) == ("busy", "ok", 3)
            runs = recent_runs(daemon.store, "busy")
            assert [x["status"] for x in runs] == ["ok", "not-modified", "ok"]
            assert daemon.store.source_state("busy")["last_new_at"] == clock.now.isoformat()

    run(scenario())
    fetches = h.events("fetch")
    assert {f["url"].rsplit("/", 2)[-2] for f in fetches} >= {"quiet", "busy", "posts"}
    assert all({"source", "url", "status", "bytes", "ms", "error"} <= set(f) for f in fetches)
    runs = h.events("source")
    assert [(e["source"], e["new"]) for e in runs][-1] == ("busy", 3)


def test_failing_source_backs_off_then_recovers(site: tuple[Path, FixtureServer],
                                                tmp_path: Path) -> None:
    root, server = site
    settings = config_for(server.base_url, ("late", "/late/feed.xml", "10m"))
    clock = FakeClock()
    h = Harness(settings, tmp_path / "b.db", clock)

    async def scenario() -> list[float]:
        delays = []
        async with h as daemon:
            daemon.jitter = 0
            daemon.start(spread=0)
            for expected_streak in (1, 2, 3, 4):
                start = clock.now
                (r,) = await daemon.run_due()
                assert r.status == "failed"
                state = daemon.store.source_state("late")
                assert state["error_streak"] == expected_streak
                assert "404" in state["last_error"]
                delays.append((daemon.plan["late"] - start).total_seconds())
                assert r.next is not None and r.next.reason == "backoff"
                clock.now = daemon.plan["late"]
            # the feed appears: the next check succeeds, the streak resets, normal interval
            write_blog(root, "late", [(i, clock.now - timedelta(minutes=5 * i))
                                      for i in range(6)])
            start = clock.now
            (r,) = await daemon.run_due()
            assert (r.status, r.new) == ("ok", 6)
            state = daemon.store.source_state("late")
            assert state["error_streak"] == 0 and state["last_error"] is None
            delays.append((daemon.plan["late"] - start).total_seconds())
            assert [x["status"] for x in recent_runs(daemon.store, "late")][:2] == [
                "ok", "failed"]
            assert recent_runs(daemon.store, "late")[1]["http_status"] == 404
        return delays

    delays = run(scenario())
    assert delays[:4] == [600, 1200, 2400, 4800]  # 10 min doubling
    assert delays[4] <= 600  # back to the (adaptive) interval: a busy feed, so shorter


def test_restart_resumes_the_stored_schedule(site: tuple[Path, FixtureServer],
                                             tmp_path: Path) -> None:
    _root, server = site
    settings = config_for(server.base_url, ("quiet", "/quiet/feed.xml", "10m"),
                          ("busy", "/busy/feed.xml", "10m"))
    clock = FakeClock()
    db = tmp_path / "c.db"

    async def first() -> dict[str, datetime]:
        async with Harness(settings, db, clock) as daemon:
            daemon.start(spread=0)
            await daemon.run_due()
            return dict(daemon.plan)

    planned = run(first())
    # restarted 2 minutes later: same plan, nothing hit at once
    clock.advance(120)
    server.reset_hits()

    async def second() -> None:
        async with Harness(settings, db, clock, seed=2) as daemon:
            assert daemon.start() == planned
            assert daemon.due() == []
            assert await daemon.run_due() == []
            assert daemon.intervals["busy"] < daemon.intervals["quiet"]

    run(second())
    assert sum(server.hits.values()) == 0
    # restarted long after: every source is overdue and is spread over the next minute
    clock.advance(86400)

    async def third() -> None:
        async with Harness(settings, db, clock, seed=3) as daemon:
            plan = daemon.start(spread=60)
            assert all(clock.now <= t <= clock.now + timedelta(seconds=60)
                       for t in plan.values())
            assert len(set(plan.values())) == 2

    run(third())


def test_server_hints_push_the_next_check_later(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_blog(root, "cached", [(1, T0 - timedelta(hours=1))])
    write_blog(root, "ttl", [(1, T0 - timedelta(hours=1))], ttl=180)
    (root / "_headers.json").write_text(json.dumps(
        {"/cached/feed.xml": {"Cache-Control": "public, max-age=7200"}}), encoding="utf-8")
    clock = FakeClock()
    with FixtureServer(root) as server:
        settings = config_for(server.base_url, ("cached", "/cached/feed.xml", "10m"),
                              ("ttl", "/ttl/feed.xml", "10m"))

        async def scenario() -> dict:
            async with Harness(settings, tmp_path / "d.db", clock) as daemon:
                daemon.jitter = 0
                daemon.start(spread=0)
                return {r.source: r for r in await daemon.run_due()}

        results = run(scenario())
    cached, ttl = results["cached"], results["ttl"]
    assert cached.hints.max_age == 7200 and cached.next.reason == "hint"
    assert cached.next.delay == 4800  # max-age 2 h, clamped to the 80 min maximum (8 x 10 min)
    assert ttl.hints.ttl == 180 * 60 and ttl.next.delay == 4800


def test_feed_ttl_is_honoured_after_a_304(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_blog(root, "ttl", [(1, T0 - timedelta(hours=1))], ttl=180)
    # the same feed found through the page that announces it
    (root / "ttl" / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>ttl</title><link rel='alternate'"
        " type='application/rss+xml' href='/ttl/feed.xml'></head><body></body></html>",
        encoding="utf-8")
    clock = FakeClock()
    with FixtureServer(root) as server:
        settings = config_for(server.base_url, ("ttl", "/ttl/feed.xml", "10m"),
                              ("page", "/ttl/index.html", "10m"))

        async def scenario() -> list[dict]:
            async with Harness(settings, tmp_path / "t.db", clock) as daemon:
                daemon.jitter = 0
                daemon.start(spread=0)
                rounds = [{r.source: r for r in await daemon.run_due()}]
                clock.advance(4800)
                rounds.append({r.source: r for r in await daemon.run_due()})
                return rounds

        first, second = run(scenario())
    for name in ("ttl", "page"):
        assert first[name].status == "ok" and second[name].status == "not-modified"
        for result in (first[name], second[name]):
            assert result.hints.ttl == 180 * 60, (name, result)
            assert result.next.reason == "hint" and result.next.delay == 4800


def test_max_instances_one_a_running_source_is_not_started_twice(
        site: tuple[Path, FixtureServer], tmp_path: Path) -> None:
    _root, server = site
    settings = config_for(server.base_url, ("busy", "/busy/feed.xml", "10m"))
    clock = FakeClock()

    async def scenario() -> None:
        async with Harness(settings, tmp_path / "e.db", clock) as daemon:
            daemon.start(spread=0)
            first = asyncio.ensure_future(daemon.run_source("busy"))
            await asyncio.sleep(0)  # let it start
            assert daemon.busy and daemon.due() == []
            second = await daemon.run_source("busy")
            assert second.status == "skipped"
            assert (await first).status == "ok"
            # the APScheduler jobs carry the same guarantees
            scheduler = build_scheduler(daemon)
            (job,) = scheduler.get_jobs()
            assert (job.id, job.max_instances, job.coalesce) == ("busy", 1, True)
            assert job.next_run_time == daemon.plan["busy"]

    run(scenario())


# -- stopping -------------------------------------------------------------------------------
class HangingServer:
    """Accepts connections and never answers (for in-flight fetches at shutdown)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.accepted = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def test_shutdown_cancels_in_flight_checks_at_the_deadline(
        site: tuple[Path, FixtureServer], tmp_path: Path) -> None:
    _root, server = site
    hang = HangingServer()
    try:
        settings = config_for(server.base_url, ("busy", "/busy/feed.xml", "10m"),
                              ("hang", f"http://127.0.0.1:{hang.port}/feed.xml", "10m"),
                              robots=False)
        clock = FakeClock()
        db = tmp_path / "f.db"

        async def scenario() -> None:
            async with Harness(settings, db, clock) as daemon:
                daemon.start(spread=0)
                planned_hang = daemon.plan["hang"]
                work = asyncio.ensure_future(daemon.run_due())
                while not hang.accepted.is_set() or "busy" in daemon._inflight:
                    await asyncio.sleep(0.01)
                cancelled = await daemon.shutdown(grace=0.2)
                assert cancelled == 1
                results = {r.source: r.status for r in await work}
                assert results == {"busy": "ok", "hang": "cancelled"}
                # nothing new starts after the stop
                clock.advance(10 ** 6)
                assert await daemon.run_due() == []
                assert (await daemon.run_source("busy")).status == "skipped"
                # the cancelled source keeps its old next check: a restart checks it again
                assert daemon.plan["hang"] == planned_hang
                assert recent_runs(daemon.store, "hang")[0]["status"] == "cancelled"

        run(scenario())
    finally:
        hang.close()
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.count_articles("busy") == 12
        assert load_schedules(store)["hang"].next_check is None


def test_run_once_checks_due_sources_and_returns(site: tuple[Path, FixtureServer],
                                                 tmp_path: Path) -> None:
    _root, server = site
    settings = config_for(server.base_url, ("quiet", "/quiet/feed.xml", "10m"),
                          ("busy", "/busy/feed.xml", "10m"))
    clock = FakeClock()
    db = tmp_path / "g.db"

    async def scenario() -> None:
        async with Harness(settings, db, clock) as daemon:
            results = await run_once(daemon, install_signals=False)
            assert sorted((r.source, r.status) for r in results) == [
                ("busy", "ok"), ("quiet", "ok")]
        async with Harness(settings, db, clock) as daemon:
            assert await run_once(daemon, install_signals=False) == []  # nothing due yet

    run(scenario())


def test_serve_runs_jobs_through_apscheduler_and_stops(site: tuple[Path, FixtureServer],
                                                       tmp_path: Path) -> None:
    """The real wiring with the real clock: first checks are due at once (spread 0)."""
    _root, server = site
    settings = config_for(server.base_url, ("quiet", "/quiet/feed.xml", "10m"),
                          ("busy", "/busy/feed.xml", "10m"))
    db = tmp_path / "h.db"

    async def scenario() -> None:
        store = Store.open(db)
        try:
            async with Fetcher(settings.fetch) as fetcher:
                daemon = Daemon(settings, store, fetcher, rng=random.Random(1), spread=0)
                stop = asyncio.Event()
                task = asyncio.ensure_future(serve(daemon, install_signals=False, stop=stop))
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    if len(daemon.intervals) == 2 and all(
                            daemon.plan[n] > datetime.now(UTC) for n in daemon.plan):
                        break
                stop.set()
                assert await task == 0
                assert store.count_articles() == 15
                stored = load_schedules(store)
                assert all(s.next_check and s.next_check > datetime.now(UTC)
                           for s in stored.values())
        finally:
            store.close()

    run(scenario())


def test_retry_after_pushes_the_next_check_and_is_stored(tmp_path: Path) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class TooMany(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(429)
            self.send_header("Retry-After", "5400")  # clamped by max_retry_after (1 h)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), TooMany)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
        settings = config_for("", ("limited", url, "10m"), robots=False)
        clock = FakeClock()

        async def scenario() -> None:
            async with Harness(settings, tmp_path / "r.db", clock) as daemon:
                daemon.jitter = 0
                daemon.start(spread=0)
                (r,) = await daemon.run_due()
                assert r.status == "failed"
                assert r.hints.retry_after == 3600
                assert (r.next.reason, r.next.delay) == ("hint", 3600)
                state = daemon.store.source_state("limited")
                assert state["retry_after_until"] == (T0 + timedelta(hours=1)).isoformat()
                assert state["next_check"] == (T0 + timedelta(hours=1)).isoformat()
                assert recent_runs(daemon.store, "limited")[0]["http_status"] == 429

        run(scenario())
    finally:
        server.shutdown()
        server.server_close()


def test_page_without_article_is_logged_and_the_rest_stored(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_blog(root, "mixed", [(i, T0 - timedelta(hours=i)) for i in range(3)])
    (root / "mixed" / "posts" / "1.html").write_text(
        "<!DOCTYPE html><html><head><title>Video</title></head><body><p>Watch.</p></body>"
        "</html>", encoding="utf-8")
    clock = FakeClock()
    with FixtureServer(root) as server:
        settings = config_for(server.base_url, ("mixed", "/mixed/feed.xml", "10m"))
        h = Harness(settings, tmp_path / "m.db", clock)

        async def scenario() -> None:
            async with h as daemon:
                daemon.start(spread=0)
                (r,) = await daemon.run_due()
                assert (r.status, r.new, r.errors) == ("ok", 2, 1)

        run(scenario())
    (err,) = h.events("error")
    assert err["source"] == "mixed" and err["kind"] == "no-article"
    assert err["url"].endswith("/mixed/posts/1.html")
    fetched = [e for e in h.events("fetch") if e["url"].endswith("/mixed/posts/1.html")]
    assert fetched and fetched[0]["status"] == 200 and fetched[0]["error"] is None


def test_an_unexpected_exception_is_logged_backed_off_and_the_daemon_goes_on(
        tmp_path: Path) -> None:
    class BrokenFetcher:
        async def fetch(self, url: str, **kwargs: object) -> None:
            raise RuntimeError("bug in a lower layer")

    settings = config_for("http://127.0.0.1:9", ("a", "/a.xml", "10m"), ("b", "/b.xml", "1h"))
    clock = FakeClock()
    store = Store.open(tmp_path / "x.db")
    try:
        import io

        out = io.StringIO()
        daemon = Daemon(settings, store, BrokenFetcher(), clock=clock, rng=random.Random(1),
                        log=RunLogger(out, "json", clock=clock), jitter=0)
        daemon.start(spread=0)
        results = run(daemon.run_due())
        assert sorted((r.source, r.status) for r in results) == [("a", "error"), ("b", "error")]
        assert daemon.crashes == 2
        assert daemon.plan["a"] == T0 + timedelta(minutes=10)  # first failure: the interval
        assert recent_runs(store, "a")[0]["message"] == (
            "internal error: RuntimeError: bug in a lower layer")
        assert load_schedules(store)["b"].next_check == T0 + timedelta(hours=1)
        state = store.source_state("a")
        assert state["error_streak"] == 1 and state["last_error"].startswith("internal error")
        clock.now = daemon.plan["a"]
        (again,) = run(daemon.run_due())
        assert again.status == "error"
        assert daemon.plan["a"] == clock.now + timedelta(minutes=20)  # backing off
        lines = [json.loads(x) for x in out.getvalue().splitlines()]
        assert {x["status"] for x in lines if x["event"] == "source"} == {"error"}
    finally:
        store.close()


def test_daemon_retries_pending_watch_alerts(site: tuple[Path, FixtureServer], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook down while the daemon runs: its alerts wait in the outbox and are sent once
    it is back, on a later round (ALERT_RETRY_EVERY), without restarting the daemon."""
    from test_watches_delivery import Hook

    import aggregator.watches
    from aggregator.daemon import ALERT_RETRY_EVERY

    _, server = site
    sleeps: list[float] = []
    monkeypatch.setattr(aggregator.watches, "SLEEP", sleeps.append)
    hook = Hook(statuses=[500] * 100)
    settings = parse_config({
        "fetch": {"allow_private": ["127.0.0.1"], "per_host_delay": 0.0, "retries": 0,
                  "timeout": 5.0},
        "sources": [{"name": "quiet", "kind": "rss", "url": server.base_url + "/quiet/feed.xml",
                     "interval": "10m"}],
        "watches": [{"name": "q", "query": "story", "webhook": hook.url}],
    })
    clock = FakeClock()
    h = Harness(settings, tmp_path / "a.db", clock)

    def outbox(store: Store) -> int:
        return store.conn.execute(
            "SELECT count(*) FROM watch_outbox WHERE status = 'pending'").fetchone()[0]

    async def scenario() -> None:
        async with h as daemon:
            daemon.start(spread=0)
            results = await daemon.run_due()
            assert results[0].new == 3
            await daemon.close(10)  # let the deliverer finish its attempts
            assert outbox(daemon.store) == 3 and hook.received == []
            assert sleeps == [1.0, 2.0, 4.0, 8.0]  # one alert's retries, the rest held back
            hook.statuses.clear()  # the receiver is back
            clock.advance(ALERT_RETRY_EVERY - 1)
            await daemon.run_due()
            await daemon.close(10)
            assert outbox(daemon.store) == 3  # not yet time to retry
            clock.advance(2)
            await daemon.run_due()
            await daemon.close(10)
            assert outbox(daemon.store) == 0

    try:
        run(scenario())
    finally:
        hook.close()
    assert sorted(b["article"]["title"] for b in hook.received) == [
        f"quiet story {n}" for n in range(3)]


def test_apscheduler_jobs_follow_the_daemons_plan(site: tuple[Path, FixtureServer],
                                                  tmp_path: Path) -> None:
    """The wiring, with the injected clock: one job per source at its planned time
    (max_instances 1, coalescing), and after a run the job moves to the next check the
    daemon planned (adaptive interval), not to the trigger's fixed interval."""
    from aggregator.scheduler import _job

    _root, server = site
    settings = config_for(server.base_url, ("quiet", "/quiet/feed.xml", "10m"),
                          ("busy", "/busy/feed.xml", "10m"))
    clock = FakeClock()

    async def scenario() -> None:
        async with Harness(settings, tmp_path / "w.db", clock) as daemon:
            daemon.start(spread=0)
            scheduler = build_scheduler(daemon)
            jobs = {job.id: job for job in scheduler.get_jobs()}
            assert set(jobs) == {"quiet", "busy"}
            for name, job in jobs.items():
                assert job.next_run_time == daemon.plan[name] == T0
                assert job.max_instances == 1 and job.coalesce is True
            await _job(daemon, scheduler, "busy")
            moved = scheduler.get_job("busy").next_run_time
            assert moved == daemon.plan["busy"] > T0
            assert moved != T0 + timedelta(minutes=10)  # the adaptive plan, jittered
            assert scheduler.get_job("quiet").next_run_time == T0  # untouched
            daemon.stopping = True  # a run that ends during shutdown leaves the job alone
            clock.now = daemon.plan["quiet"]
            await _job(daemon, scheduler, "quiet")
            assert scheduler.get_job("quiet").next_run_time == T0

    run(scenario())
