"""Benchmark: one polling cycle of 10,000 feeds on 200 loopback hosts (not a test).

A server process listens on 200 loopback addresses (127.0.0.1-127.0.0.100 and
127.0.1.1-127.0.1.100, all loopback on Linux), answers after a fixed latency, and returns
304 when the client's If-None-Match matches (most feeds) or a small RSS feed otherwise. It
counts, per address, how many requests were in flight at once.

The client is the real Fetcher (guarded transport, per-host limits, body limits) with
per_host_delay=0 (a politeness delay would make the cycle measure the delay, not the fetcher),
robots checks off unless --robots (then each host serves a robots.txt, fetched once),
and allow_private=("127.0.0.0/23",) so the loopback hosts are reachable.

    .venv/bin/python bench/fetch_poll.py [--feeds 10000] [--hosts 200] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import socket
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aggregator.errors import FetchError  # noqa: E402
from aggregator.fetch import Fetcher, FetchSettings  # noqa: E402

FEED = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        b"<title>Bench feed</title>"
        + b"".join(b"<item><title>Story %d</title><link>http://example.invalid/%d</link>"
                   b"<description>Lens and body news, item %d.</description></item>" % (i, i, i)
                   for i in range(10))
        + b"</channel></rss>")


def host_addresses(count: int) -> list[str]:
    out = []
    for i in range(count):
        block, last = divmod(i, 100)
        out.append(f"127.0.{block}.{last + 1}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- server process ----------------------------------------------------------------------------

def serve(hosts: list[str], port: int, latency: float, ready: mp.Event, conn) -> None:  # type: ignore[no-untyped-def]
    active: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    stats = Counter()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        stats["connections"] += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                active[host] += 1
                peak[host] = max(peak[host], active[host])
                stats["active"] += 1
                stats["peak_all"] = max(stats["peak_all"], stats["active"])
                stats["requests"] += 1
                try:
                    await asyncio.sleep(latency)
                    path = head.split(b" ", 2)[1]
                    etag = b'"' + path.rsplit(b"/", 1)[-1] + b'"'
                    if path == b"/robots.txt":
                        stats["robots"] += 1
                        body = b"User-agent: *\nDisallow: /private/\n"
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                                     + body)
                    elif b"if-none-match: " + etag in head.lower():
                        stats["304"] += 1
                        writer.write(b"HTTP/1.1 304 Not Modified\r\nETag: " + etag
                                     + b"\r\nContent-Length: 0\r\n\r\n")
                    else:
                        stats["200"] += 1
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml"
                                     b"\r\nETag: " + etag + b"\r\nContent-Length: "
                                     + str(len(FEED)).encode() + b"\r\n\r\n" + FEED)
                    await writer.drain()
                finally:
                    active[host] -= 1
                    stats["active"] -= 1
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, h, port, backlog=512) for h in hosts]
        ready.set()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # wait for "stop"
        for s in servers:
            s.close()
        conn.send({"peak": dict(peak), **stats})

    asyncio.run(main())


# -- client ------------------------------------------------------------------------------------

async def poll(urls: list[tuple[str, str | None]], settings: FetchSettings) -> Counter[str]:
    results: Counter[str] = Counter()

    async with Fetcher(settings) as fetcher:
        async def one(url: str, etag: str | None) -> None:
            try:
                page = await fetcher.fetch(url, etag=etag, accept="feed")
                results["304" if page.not_modified else str(page.status)] += 1
            except FetchError as exc:
                results[f"error:{exc.kind}"] += 1

        await asyncio.gather(*(one(u, e) for u, e in urls))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=10_000)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--changed", type=float, default=0.1, help="share of feeds answering 200")
    ap.add_argument("--max-concurrency", type=int, default=FetchSettings.max_concurrency)
    ap.add_argument("--per-host", type=int, default=FetchSettings.per_host_concurrency)
    ap.add_argument("--robots", action="store_true", help="check robots.txt (served by each host)")
    ap.add_argument("--runs", type=int, default=3, help="polling cycles timed (median shown)")
    args = ap.parse_args()

    hosts = host_addresses(args.hosts)
    port = free_port()
    ready = mp.get_context("fork").Event()
    parent, child = mp.get_context("fork").Pipe()
    proc = mp.get_context("fork").Process(target=serve, args=(hosts, port, args.latency,
                                                              ready, child), daemon=True)
    proc.start()
    if not ready.wait(30):
        raise SystemExit("server did not start")

    every = max(1, round(1 / args.changed)) if args.changed > 0 else 0
    urls: list[tuple[str, str | None]] = []
    for i in range(args.feeds):
        host = hosts[i % len(hosts)]
        name = f"feed{i}"
        stored = None if every and i % every == 0 else f'"{name}"'
        urls.append((f"http://{host}:{port}/feeds/{name}", stored))

    settings = FetchSettings(
        per_host_delay=0.0, robots=args.robots, retries=2, timeout=30.0,
        per_host_concurrency=args.per_host, max_concurrency=args.max_concurrency,
        allow_private=("127.0.0.0/23",),
    )
    times: list[float] = []
    cpus: list[float] = []
    for _ in range(max(args.runs, 1)):  # each run: a fresh client, the whole cycle
        start, cpu_start = time.perf_counter(), time.process_time()
        results = asyncio.run(poll(urls, settings))
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu_start)
    elapsed, cpu = statistics.median(times), statistics.median(cpus)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    parent.send("stop")
    server = parent.recv()
    proc.join(10)
    peak = server["peak"]
    worst = max(peak.values()) if peak else 0

    rows = [
        ("feeds polled", f"{args.feeds:,} on {args.hosts} hosts"),
        ("server latency", f"{args.latency * 1000:.0f} ms"),
        ("settings", f"per_host_concurrency={settings.per_host_concurrency}, "
                     f"max_concurrency={settings.max_concurrency}, per_host_delay=0, "
                     f"robots {'on' if settings.robots else 'off'}"),
        ("results (last run)", ", ".join(f"{k}: {v:,}" for k, v in sorted(results.items()))),
        ("server saw (all runs)", f"{server['requests']:,} requests "
                                  f"({server.get('robots', 0)} robots.txt), "
                                  f"{server['connections']:,} connections"),
        ("total time (median)", f"{elapsed:.2f} s of {len(times)} runs: "
                                + ", ".join(f"{t:.2f}" for t in times)),
        ("requests/s", f"{args.feeds / elapsed:,.0f}"),
        ("peak memory (client maxrss)", f"{rss_mb:.0f} MB"),
        ("max concurrent overall (server)", f"{server['peak_all']}"),
        ("client CPU time (median)", f"{cpu:.1f} s"),
        ("max concurrent on one host", f"{worst} (limit {settings.per_host_concurrency})"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    ok = (worst <= settings.per_host_concurrency and elapsed < 60 and rss_mb < 300
          and sum(v for k, v in results.items() if k.startswith("error")) == 0)
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
