"""The Fetcher against a misbehaving server on 127.0.0.1: every case ends within its
deadline plus one second with a typed error or the right result."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from misbehaving_server import HTML, MisbehavingServer

from aggregator.errors import (
    BadContent,
    BlockedURLError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RobotsDisallowed,
    TooLarge,
    TooManyRedirects,
    TransportError,
    UnsupportedContent,
)
from aggregator.fetch import Fetcher, FetchSettings
from aggregator.fetch.charset import decode_html
from aggregator.models import Page

DEADLINE = 1.0
SETTINGS = FetchSettings(
    timeout=DEADLINE, connect_timeout=DEADLINE, max_bytes=1024 * 1024, per_host_delay=0,
    retries=0, backoff_base=1.0, allow_private=("127.0.0.1",), robots=False,
)


class FakeTime:
    """Injected clock and sleep: sleeping advances the clock at once and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
def server() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def canary() -> Iterator[MisbehavingServer]:
    """A listener on 127.0.0.2: the guard must keep every request away from it."""
    with MisbehavingServer("127.0.0.2") as srv:
        yield srv


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fetch(url: str, settings: FetchSettings = SETTINGS, fake: FakeTime | None = None,
          **kwargs: Any) -> tuple[Page | FetchError, float]:
    fake = fake or FakeTime()

    async def go() -> tuple[Page | FetchError, float]:
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
            start = time.monotonic()  # the fetch call itself, not the client's set-up
            try:
                result: Page | FetchError = await fetcher.fetch(url, **kwargs)
            except FetchError as exc:
                result = exc
            return result, time.monotonic() - start

    return run(go())


def expect(url: str, error: type[FetchError], settings: FetchSettings = SETTINGS,
           **kwargs: Any) -> FetchError:
    result, elapsed = fetch(url, settings, **kwargs)
    assert isinstance(result, error), result
    assert result.url, "every fetch error names its URL"
    assert elapsed < settings.timeout + 1.0, f"took {elapsed:.2f} s"
    return result


# -- success ---------------------------------------------------------------------------------

def test_ok_page(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/ok"))
    assert isinstance(page, Page)
    assert page.status == 200 and page.content == HTML
    assert page.content_type == "text/html" and page.charset == "utf-8"
    assert page.final_url == page.url == server.url("/ok")
    assert page.fetched is not None
    sent = server.log[-1].headers
    assert sent["user-agent"].startswith("aggregator/")
    assert "gzip" in sent["accept-encoding"]


@pytest.mark.parametrize("path", ["/gzip", "/br", "/raw-deflate", "/chunked"])
def test_encodings_and_chunking_decoded(server: MisbehavingServer, path: str) -> None:
    page, _ = fetch(server.url(path))
    assert isinstance(page, Page) and page.content == HTML


def test_feed_accepts_feed_types_and_html(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/feed"), accept="feed")
    assert isinstance(page, Page) and page.content_type == "application/rss+xml"
    page, _ = fetch(server.url("/ok"), accept="feed")  # for feed discovery
    assert isinstance(page, Page)
    expect(server.url("/feed"), UnsupportedContent, accept="html")


def test_conditional_get_and_304(server: MisbehavingServer) -> None:
    first, _ = fetch(server.url("/etag"), accept="feed")
    assert isinstance(first, Page) and first.status == 200
    assert first.etag == '"v1"' and first.last_modified == "Sat, 21 Nov 2026 10:00:00 GMT"
    again, _ = fetch(server.url("/etag"), accept="feed", etag=first.etag,
                     last_modified=first.last_modified)
    assert isinstance(again, Page)
    assert again.not_modified and again.content == b"" and again.etag == '"v1"'
    sent = server.log[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Sat, 21 Nov 2026 10:00:00 GMT"


def test_unsupported_content_type_names_the_type(server: MisbehavingServer) -> None:
    err = expect(server.url("/pdf"), UnsupportedContent)
    assert "application/pdf" in str(err)
    page, _ = fetch(server.url("/pdf"), accept="any")
    assert isinstance(page, Page)


def test_missing_content_type_is_sniffed(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/untyped?kind=feed"), accept="feed")
    assert isinstance(page, Page) and page.content_type == "application/xml"
    expect(server.url("/untyped?kind=bin"), UnsupportedContent, accept="feed")


# -- slow servers ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/slow-headers", "/trickle", "/hang-body"])
def test_total_deadline(server: MisbehavingServer, path: str) -> None:
    result, elapsed = fetch(server.url(path))
    assert isinstance(result, FetchTimeout), result
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0


def test_deadline_covers_the_whole_redirect_chain(server: MisbehavingServer) -> None:
    # four hops of 0.4 s each: every hop is within the deadline, the chain is not
    before = server.hits("/chain")
    result, elapsed = fetch(server.url("/chain?n=3&s=0.4"))
    assert isinstance(result, FetchTimeout), result
    assert "redirect chain" in result.reason
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0
    assert server.hits("/chain") - before == 3  # the fourth hop was never reached
    page, _ = fetch(server.url("/chain?n=1&s=0.3"))  # two short hops fit
    assert isinstance(page, Page)


def test_timeouts_are_retried_with_backoff(server: MisbehavingServer) -> None:
    fake = FakeTime()
    settings = replace(SETTINGS, timeout=0.3, retries=2)
    before = server.hits("/slow-headers")
    result, elapsed = fetch(server.url("/slow-headers"), settings, fake)
    assert isinstance(result, FetchTimeout)
    assert server.hits("/slow-headers") - before == 3
    assert len(fake.sleeps) == 2  # backoff sleeps went through the injected sleep
    assert 0.5 <= fake.sleeps[0] < 1.5 and 1.0 <= fake.sleeps[1] < 3.0  # base * 2**n, jitter
    assert elapsed < 3 * 0.3 + 1.0


# -- too big -----------------------------------------------------------------------------------

def test_content_length_over_cap_fails_before_body(server: MisbehavingServer) -> None:
    err = expect(server.url("/huge-cl"), TooLarge)
    assert "Content-Length" in err.reason


@pytest.mark.parametrize("path", ["/huge-nocl", "/gzip-bomb", "/deflate-bomb", "/br-bomb"])
def test_body_cap_on_decoded_bytes(server: MisbehavingServer, path: str) -> None:
    from misbehaving_server import bomb

    for kind in ("gzip", "deflate", "br"):
        bomb(kind)  # build outside the measured section
    tracemalloc.start()
    try:
        err = expect(server.url(path), TooLarge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "decoded" in err.reason
    assert peak < 8 * SETTINGS.max_bytes, f"peak {peak} bytes"


# -- broken bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/truncated", "/truncated-gzip", "/broken-chunked",
                                  "/truncated-chunked"])
def test_broken_bodies_are_errors(server: MisbehavingServer, path: str) -> None:
    expect(server.url(path), BadContent)


def test_connection_reset_is_transport_error_and_retried(server: MisbehavingServer) -> None:
    fake = FakeTime()
    before = server.hits("/reset")
    result, _ = fetch(server.url("/reset"), replace(SETTINGS, retries=1), fake)
    assert isinstance(result, TransportError), result
    assert server.hits("/reset") - before == 2 and len(fake.sleeps) == 1


# -- redirects ---------------------------------------------------------------------------------

def test_redirects_followed_and_final_url_recorded(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/chain?n=5"))
    assert isinstance(page, Page) and page.final_url == server.url("/chain?n=0")
    assert page.url == server.url("/chain?n=5")


def test_too_many_redirects(server: MisbehavingServer) -> None:
    expect(server.url("/chain?n=6"), TooManyRedirects)
    expect(server.url("/loop"), TooManyRedirects)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:,hi",
                                    "gopher://127.0.0.1:70/"])
def test_redirect_to_other_schemes_refused(server: MisbehavingServer, target: str) -> None:
    from urllib.parse import quote

    expect(server.url("/redirect?to=" + quote(target, safe="")), BlockedURLError)


# -- the address guard, with loopback only -----------------------------------------------------

def _targets(canary: MisbehavingServer, server: MisbehavingServer) -> list[str]:
    return [
        f"http://127.0.0.2:{canary.port}/private",
        f"http://127.1:{server.port}/private",
        f"http://2130706433:{server.port}/private",
        f"http://0x7f.1:{server.port}/private",
        f"http://[::ffff:127.0.0.2]:{canary.port}/private",
        f"http://[::ffff:127.0.0.1]:{server.port}/private",
        f"http://[::1]:{server.port}/private",
    ]


def test_guard_refuses_direct_targets(server: MisbehavingServer,
                                      canary: MisbehavingServer) -> None:
    for url in _targets(canary, server):
        err = expect(url, BlockedURLError)
        assert err.url == url
    assert canary.connections == 0
    assert server.hits("/private") == 0


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_guard_refuses_redirect_targets(server: MisbehavingServer, canary: MisbehavingServer,
                                        code: int) -> None:
    from urllib.parse import quote

    for target in _targets(canary, server):
        expect(server.url(f"/redirect?code={code}&to=" + quote(target, safe="")),
               BlockedURLError)
    assert canary.connections == 0
    assert server.hits("/private") == 0


def test_guard_checks_resolved_address(server: MisbehavingServer,
                                       canary: MisbehavingServer) -> None:
    """A name resolving to a refused address (DNS rebinding) is caught at connect time."""
    from aggregator.fetch.guard import GuardedTransport

    answers = {"rebind.test": ["127.0.0.2"], "good.test": ["127.0.0.1"],
               "mixed.test": ["127.0.0.2", "127.0.0.1"]}
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[host]

    async def go() -> list[object]:
        transport = GuardedTransport(SETTINGS.allow_private, resolver=resolver)
        out: list[object] = []
        async with Fetcher(SETTINGS, transport=transport) as fetcher:
            for url in (f"http://rebind.test:{canary.port}/private",
                        f"http://mixed.test:{server.port}/mixed",
                        f"http://good.test:{server.port}/ok",
                        server.url("/redirect?to=" + f"http://rebind.test:{canary.port}/x")):
                try:
                    out.append(await fetcher.fetch(url))
                except FetchError as exc:
                    out.append(exc)
        return out

    rebind, mixed, good, redirected = run(go())
    assert isinstance(rebind, BlockedURLError) and "127.0.0.2" in str(rebind)
    # a mixed answer: the refused address is dropped, only 127.0.0.1 is connected to
    assert isinstance(mixed, HTTPStatusError) and mixed.status == 404
    assert server.hits("/mixed") == 1
    assert isinstance(good, Page) and good.content == HTML
    assert isinstance(redirected, BlockedURLError)
    assert asked.count("rebind.test") == 2
    assert canary.connections == 0


def test_default_settings_refuse_loopback(server: MisbehavingServer) -> None:
    expect(server.url("/private"), BlockedURLError, replace(SETTINGS, allow_private=()))
    assert server.hits("/private") == 0


# -- status codes, Retry-After, retries --------------------------------------------------------

def test_flaky_500_then_200_is_retried(server: MisbehavingServer) -> None:
    fake = FakeTime()
    page, _ = fetch(server.url("/flaky?key=a&fail=2"), replace(SETTINGS, retries=2), fake)
    assert isinstance(page, Page) and page.status == 200
    assert len(fake.sleeps) == 2


def test_persistent_500_gives_http_status_error(server: MisbehavingServer) -> None:
    fake = FakeTime()
    result, _ = fetch(server.url("/flaky?key=b&fail=9"), replace(SETTINGS, retries=2), fake)
    assert isinstance(result, HTTPStatusError) and result.status == 500
    assert server.counters["/flaky?b"] == 3


def test_404_is_not_retried(server: MisbehavingServer) -> None:
    fake = FakeTime()
    result, _ = fetch(server.url("/status?code=404"), replace(SETTINGS, retries=2), fake)
    assert isinstance(result, HTTPStatusError) and result.status == 404
    assert fake.sleeps == []


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "date"])
def test_short_retry_after_is_waited_out(server: MisbehavingServer, status: int,
                                         form: str) -> None:
    fake = FakeTime()
    url = server.url(f"/limited?key=s{status}{form}&status={status}&form={form}&after=5")
    page, elapsed = fetch(url, replace(SETTINGS, retries=1), fake)
    assert isinstance(page, Page) and page.status == 200
    assert len(fake.sleeps) == 1 and 3.0 <= fake.sleeps[0] <= 5.0  # date form loses <1 s
    assert elapsed < 1.0  # the wait went through the injected sleep


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_long_retry_after_fails_fast_and_blocks_host(server: MisbehavingServer,
                                                     form: str) -> None:
    fake = FakeTime()

    async def go() -> tuple[object, object, object]:
        async with Fetcher(replace(SETTINGS, retries=2, max_retry_after=600), clock=fake.clock,
                           sleep=fake.sleep) as fetcher:
            url = server.url(f"/limited?key=l{form}&form={form}&after=7200")
            try:
                await fetcher.fetch(url)
            except HTTPStatusError as exc:
                first = exc
            hits = server.counters[f"/limited?l{form}"]
            try:
                await fetcher.fetch(server.url("/ok"))  # same host: not even asked
            except HTTPStatusError as exc:
                second = exc
            state = fetcher.host_state("127.0.0.1")
            return first, (second, hits), state

    first, (second, hits), state = run(go())
    assert isinstance(first, HTTPStatusError) and first.status == 429
    assert first.retry_after is not None and 590 <= first.retry_after <= 600  # clamped
    assert hits == 1
    assert isinstance(second, HTTPStatusError) and second.retry_after is not None
    assert second.url == server.url("/ok")
    assert state.retry_after is not None and state.retry_status == 429


# -- robots.txt --------------------------------------------------------------------------------

def _robots_fetch(mode: str, path: str, **kwargs: Any) -> tuple[Any, MisbehavingServer, float]:
    settings = replace(SETTINGS, robots=True)
    with MisbehavingServer(robots=mode) as srv:
        result, elapsed = fetch(srv.url(path), settings, **kwargs)
        return result, srv, elapsed


def test_robots_disallow(server: MisbehavingServer) -> None:
    result, srv, _ = _robots_fetch("disallow", "/ok")
    assert isinstance(result, RobotsDisallowed) and result.url
    assert srv.paths == ["/robots.txt"]


def test_robots_disallow_for_our_agent_only_path() -> None:
    result, srv, _ = _robots_fetch("disallow-private", "/private")
    assert isinstance(result, RobotsDisallowed)
    result, srv, _ = _robots_fetch("disallow-private", "/ok")
    assert isinstance(result, Page)


def test_robots_check_can_be_skipped_per_call() -> None:
    result, srv, _ = _robots_fetch("disallow", "/ok", robots=False)
    assert isinstance(result, Page)
    assert srv.paths == ["/ok"]


def test_robots_404_allows() -> None:
    result, srv, _ = _robots_fetch("404", "/ok")
    assert isinstance(result, Page)
    assert srv.paths == ["/robots.txt", "/ok"]


@pytest.mark.parametrize("mode", ["500", "hang"])
def test_robots_5xx_or_unreachable_disallows(mode: str) -> None:
    result, srv, elapsed = _robots_fetch(mode, "/ok")
    assert isinstance(result, RobotsDisallowed), result
    assert "/ok" not in srv.paths
    assert elapsed < DEADLINE + 1.0


@pytest.mark.parametrize("mode", ["huge", "huge-nocl"])
def test_robots_over_the_cap_is_parsed_up_to_500_kib(mode: str) -> None:
    # RFC 9309 2.5: not "unreachable, disallow everything", but the first 500 KiB parsed
    result, srv, elapsed = _robots_fetch(mode, "/ok")
    assert isinstance(result, Page), result  # its Disallow line is past the cap
    assert srv.paths == ["/robots.txt", "/ok"] and elapsed < DEADLINE + 1.0
    result, srv, _ = _robots_fetch(mode, "/private")
    assert isinstance(result, RobotsDisallowed), result
    assert "/private" not in srv.paths


def test_robots_cached_and_crawl_delay_honoured() -> None:
    fake = FakeTime()
    settings = replace(SETTINGS, robots=True, per_host_delay=0.5)

    async def go(srv: MisbehavingServer) -> Any:
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
            await asyncio.gather(*(fetcher.fetch(srv.url(f"/ok?{i}")) for i in range(4)))
            return fetcher.host_state("127.0.0.1")

    with MisbehavingServer(robots="crawl-delay") as srv:
        state = run(go(srv))
        assert srv.paths.count("/robots.txt") == 1
        assert srv.paths.count("/ok") == 4
    assert state.delay == 5.0
    # four starts after robots.txt, each at least 5 s (of fake time) after the previous one
    assert sum(fake.sleeps) >= 4 * 5.0 - 0.5


def test_robots_ttl_expires() -> None:
    fake = FakeTime()
    settings = replace(SETTINGS, robots=True, robots_ttl=100.0)

    async def go(srv: MisbehavingServer) -> None:
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
            await fetcher.fetch(srv.url("/ok"))
            fake.now += 50
            await fetcher.fetch(srv.url("/ok"))
            fake.now += 51
            await fetcher.fetch(srv.url("/ok"))

    with MisbehavingServer(robots="404") as srv:
        run(go(srv))
        assert srv.paths.count("/robots.txt") == 2


# -- charsets ----------------------------------------------------------------------------------

def test_mislabelled_charset(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/mislabelled"))
    assert isinstance(page, Page) and page.charset == "utf-8"
    text, used = decode_html(page.content, page.charset)
    assert "Müller" in text and "für 1.299 €" in text
    assert used != "utf-8"


def test_utf16_with_bom(server: MisbehavingServer) -> None:
    page, _ = fetch(server.url("/utf16"))
    assert isinstance(page, Page)
    text, used = decode_html(page.content, page.charset)
    assert "Caméra Übersicht" in text and used == "utf-16-le"


# -- other sources go on -----------------------------------------------------------------------

def test_one_bad_host_does_not_stop_others(server: MisbehavingServer) -> None:
    async def go() -> list[object]:
        async with Fetcher(SETTINGS) as fetcher:
            return await asyncio.gather(
                fetcher.fetch(server.url("/slow-headers")),
                fetcher.fetch(server.url("/gzip-bomb")),
                fetcher.fetch(server.url("/ok")),
                fetcher.fetch(server.url("/feed"), accept="feed"),
                return_exceptions=True)

    start = time.monotonic()
    slow, bomb_, ok, feed = run(go())
    assert time.monotonic() - start < DEADLINE + 1.0
    assert isinstance(slow, FetchTimeout) and isinstance(bomb_, TooLarge)
    assert isinstance(ok, Page) and isinstance(feed, Page)


def test_robots_not_cached_while_host_says_wait() -> None:
    """A long Retry-After blocks the host; robots.txt is not judged (or cached) meanwhile."""
    fake = FakeTime()
    settings = replace(SETTINGS, robots=True, retries=0)

    async def go(a: MisbehavingServer, b: MisbehavingServer) -> tuple[object, ...]:
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
            out: list[object] = []
            # a's 429 blocks host 127.0.0.1; b (same host, other port) has no robots.txt yet
            for url in (a.url("/limited?key=r&after=600"), b.url("/ok")):
                try:
                    out.append(await fetcher.fetch(url))
                except FetchError as exc:
                    out.append(exc)
            fake.now += 601
            out.append(await fetcher.fetch(b.url("/ok")))
            return tuple(out)

    with MisbehavingServer(robots="404") as a, MisbehavingServer(robots="allow") as b:
        limited, blocked, later = run(go(a, b))
        assert a.paths == ["/robots.txt", "/limited"]
        assert b.paths == ["/robots.txt", "/ok"]
    assert isinstance(limited, HTTPStatusError) and limited.retry_after == 600
    assert isinstance(blocked, HTTPStatusError) and blocked.status == 429
    assert blocked.retry_after is not None and blocked.url
    assert isinstance(later, Page)


def test_robots_load_shared_by_concurrent_callers_and_survives_cancel() -> None:
    settings = replace(SETTINGS, robots=True)

    async def go(srv: MisbehavingServer) -> list[object]:
        async with Fetcher(settings) as fetcher:
            first = asyncio.ensure_future(fetcher.fetch(srv.url("/ok?a")))
            await asyncio.sleep(0.01)
            first.cancel()  # the caller that started the robots.txt load goes away
            return await asyncio.gather(*(fetcher.fetch(srv.url(f"/ok?{i}")) for i in range(3)),
                                        return_exceptions=True)

    with MisbehavingServer(robots="allow") as srv:
        results = run(go(srv))
        assert srv.paths.count("/robots.txt") == 1
    assert all(isinstance(r, Page) for r in results), results
