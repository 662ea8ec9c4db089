"""Per-host concurrency and delay, and the overall concurrency cap, counted server-side."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
from misbehaving_server import MisbehavingServer

from aggregator.fetch import Fetcher, FetchSettings
from aggregator.fetch.guard import GuardedTransport

SETTINGS = FetchSettings(timeout=2.0, connect_timeout=1.0, per_host_delay=0, retries=0,
                         allow_private=("127.0.0.1",), robots=False)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture()
def server() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as srv:
        yield srv


def test_per_host_concurrency_never_exceeded(server: MisbehavingServer) -> None:
    async def go() -> object:
        async with Fetcher(replace(SETTINGS, per_host_concurrency=2)) as fetcher:
            await asyncio.gather(*(fetcher.fetch(server.url(f"/sleep?s=0.05&i={i}"))
                                   for i in range(12)))
            return fetcher.host_state("127.0.0.1")

    state = asyncio.run(go())
    assert server.hits("/sleep") == 12
    assert server.peak == 2
    assert state is not None and state.peak == 2 and state.requests == 12


def test_overall_concurrency_cap(server: MisbehavingServer) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # five names, one loopback server

    async def go() -> None:
        transport = GuardedTransport(SETTINGS.allow_private, resolver=resolver)
        settings = replace(SETTINGS, per_host_concurrency=2, max_concurrency=3)
        async with Fetcher(settings, transport=transport) as fetcher:
            await asyncio.gather(*(
                fetcher.fetch(f"http://h{h}.test:{server.port}/sleep?s=0.05&i={i}")
                for h in range(5) for i in range(3)))

    asyncio.run(go())
    assert server.hits("/sleep") == 15
    assert server.peak == 3


def test_per_host_delay_spaces_request_starts(server: MisbehavingServer) -> None:
    fake = FakeTime()
    starts: list[float] = []

    async def go() -> None:
        settings = replace(SETTINGS, per_host_delay=2.0, per_host_concurrency=2)
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep) as fetcher:
            send = fetcher._client.send

            async def recording_send(request, **kwargs):  # type: ignore[no-untyped-def]
                starts.append(fake.now)
                return await send(request, **kwargs)

            fetcher._client.send = recording_send  # type: ignore[method-assign]
            await asyncio.gather(*(fetcher.fetch(server.url(f"/ok?{i}")) for i in range(4)))

    asyncio.run(go())
    assert server.hits("/ok") == 4
    # Request starts at fake times 0, 2, 4, 6; nothing really slept.
    assert sorted(starts) == [0.0, 2.0, 4.0, 6.0]


def test_hosts_do_not_wait_for_each_other(server: MisbehavingServer) -> None:
    fake = FakeTime()

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def go() -> None:
        transport = GuardedTransport(SETTINGS.allow_private, resolver=resolver)
        settings = replace(SETTINGS, per_host_delay=5.0)
        async with Fetcher(settings, clock=fake.clock, sleep=fake.sleep,
                           transport=transport) as fetcher:
            await asyncio.gather(*(fetcher.fetch(f"http://h{h}.test:{server.port}/ok")
                                   for h in range(6)))

    asyncio.run(go())
    assert server.hits("/ok") == 6 and fake.sleeps == []


def test_idle_origin_pools_are_closed_beyond_the_cap(server: MisbehavingServer) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def go() -> int:
        transport = GuardedTransport(SETTINGS.allow_private, resolver=resolver, max_origins=3)
        async with Fetcher(SETTINGS, transport=transport) as fetcher:
            for h in range(8):
                await fetcher.fetch(f"http://h{h}.test:{server.port}/ok")
            return len(transport._pools)

    assert asyncio.run(go()) <= 4
    assert server.hits("/ok") == 8
