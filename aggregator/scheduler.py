"""APScheduler (3.x) wiring for the daemon, and signal handling. No crawl logic here.

One job per source (id = source name), ``max_instances=1`` and ``coalesce=True``; its first
run is the daemon's planned time (the stored next check, or soon if overdue). After each run
the job is moved to the next check the daemon decided (adaptive interval, hints, backoff,
jitter). The job's own IntervalTrigger (configured interval with jitter) is only the
fallback if that ever fails.

Signals: the first SIGINT/SIGTERM stops starting new checks, waits up to ``grace`` seconds
for running ones, cancels the rest and returns 0. Every write is a short transaction that
never spans an ``await``, and signal handlers run on the event loop between callbacks, so
a second signal can end the process at once (``os._exit``) without leaving a half-written
article: SQLite's WAL simply ends at the last commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from datetime import UTC

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aggregator.daemon import Daemon

DEFAULT_GRACE = 20.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Stopper:
    """First signal: ask to stop. Second: exit at once (``hard_exit(128 + signum)``)."""

    def __init__(self, daemon: Daemon, hard_exit: Callable[[int], None] = os._exit) -> None:
        self.daemon = daemon
        self.event = asyncio.Event()
        self.signals = 0
        self._hard_exit = hard_exit

    def __call__(self, signum: int) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        if self.signals == 1:
            self.daemon.stopping = True
            if self.daemon.log:
                self.daemon.log.info(f"{name}: stopping (send it again to exit at once)")
            self.event.set()
        else:
            if self.daemon.log:
                self.daemon.log.info(f"{name} again: exiting now")
            self._hard_exit(128 + signum)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self, sig)

    def remove(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)


def build_scheduler(daemon: Daemon) -> AsyncIOScheduler:
    """An AsyncIOScheduler with one job per planned source (not started)."""
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={
        "max_instances": 1, "coalesce": True, "misfire_grace_time": None,
    })
    for name, when in sorted(daemon.plan.items(), key=lambda kv: kv[1]):
        interval = max(int(daemon.intervals.get(name, daemon.sources[name].interval)), 1)
        scheduler.add_job(
            _job, IntervalTrigger(seconds=interval, jitter=max(int(interval * daemon.jitter), 0),
                                  timezone=UTC),
            args=(daemon, scheduler, name), id=name, name=f"check {name}",
            next_run_time=when, replace_existing=True,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )
    return scheduler


async def _job(daemon: Daemon, scheduler: AsyncIOScheduler, name: str) -> None:
    try:
        await daemon.run_source(name)
    except asyncio.CancelledError:  # cut off at the shutdown deadline (already logged)
        return
    if daemon.stopping:
        return
    with contextlib.suppress(JobLookupError):  # the scheduler is shutting down
        scheduler.modify_job(name, next_run_time=daemon.plan[name])


async def serve(daemon: Daemon, *, grace: float = DEFAULT_GRACE,
                install_signals: bool = True, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or until ``stop`` is set), then stop gracefully."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    stopper = _Stopper(daemon)
    if stop is not None:
        stopper.event = stop
    if install_signals:
        stopper.install(loop)
    daemon.start()
    scheduler = build_scheduler(daemon)
    scheduler.start()
    if daemon.log:
        first = daemon.next_wakeup()
        daemon.log.info("scheduler started", sources=len(daemon.plan),
                        first_check=first.isoformat(timespec="seconds") if first else None)
    try:
        await stopper.event.wait()
    finally:
        daemon.stopping = True
        scheduler.shutdown(wait=False)
        cancelled = await daemon.shutdown(grace)
        await daemon.close()
        if daemon.log:
            daemon.log.info("stopped", cancelled=cancelled)
        if install_signals:
            stopper.remove(loop)
    return 0


async def run_once(daemon: Daemon, *, grace: float = DEFAULT_GRACE,
                   install_signals: bool = True) -> list:
    """One round: every source that is due now (never checked or overdue), then return.
    A signal stops it the same way as ``serve``."""
    loop = asyncio.get_running_loop()
    stopper = _Stopper(daemon)
    if install_signals:
        stopper.install(loop)
    try:
        daemon.start(spread=0)
        work = asyncio.ensure_future(daemon.run_due())
        stop = asyncio.ensure_future(stopper.event.wait())
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            await daemon.shutdown(grace)
            await asyncio.wait({work})
        stop.cancel()
        return work.result() if not work.cancelled() else []
    finally:
        await daemon.close()
        if install_signals:
            stopper.remove(loop)
