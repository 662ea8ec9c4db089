"""``aggregator run``: the scheduled crawler (daemon)."""

from __future__ import annotations

import asyncio
import sys

import click

from aggregator.cli_context import Context, pass_ctx


@click.command("run")
@click.option("--log-format", "log_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="One line per fetch and per source check.")
@click.option("--once", is_flag=True,
              help="Check every source that is due now (never checked or overdue), then exit.")
@click.option("--grace", default=20.0, show_default=True, type=click.FloatRange(0, 3600),
              metavar="SECONDS",
              help="On SIGINT/SIGTERM, how long running checks may finish before they are "
                   "cancelled. A second signal exits at once.")
@click.option("--spread", default=60.0, show_default=True, type=click.FloatRange(0, 86400),
              metavar="SECONDS",
              help="At start, overdue or never-checked sources are spread over this many "
                   "seconds instead of all being checked at once.")
@pass_ctx
def run_cmd(obj: Context, log_format: str, once: bool, grace: float, spread: float) -> None:
    """Crawl on a schedule until stopped: each source at its own adaptive interval.

    The next check of every source is kept in the database, so a restart resumes the
    schedule. Stop with Ctrl-C or SIGTERM (exit status 0).
    """
    from aggregator.daemon import Daemon
    from aggregator.fetch import Fetcher
    from aggregator.logs import RunLogger
    from aggregator.scheduler import run_once, serve

    settings = obj.settings()
    log = RunLogger(sys.stdout, log_format)

    async def main() -> int:
        with obj.store() as store:
            async with Fetcher(settings.fetch) as fetcher:
                daemon = Daemon(settings, store, fetcher, log=log, spread=spread)
                if not once:
                    return await serve(daemon, grace=grace)
                results = await run_once(daemon, grace=grace)
                failed = [r for r in results if r.status in ("failed", "error")]
                log.info("round finished", checked=len(results), failed=len(failed),
                         new=sum(r.new for r in results))
                return 1 if results and len(failed) == len(results) else 0

    code = asyncio.run(main())
    if code:
        raise click.exceptions.Exit(code)


def register(cli: click.Group, sources: click.Group) -> None:
    cli.add_command(run_cmd)
