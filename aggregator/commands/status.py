"""``aggregator status``: health of every source; non-zero exit when any is failing."""

from __future__ import annotations

import json

import click

from aggregator.cli_context import Context, pass_ctx
from aggregator.errors import AggregatorError


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--fail-after", default=1, show_default=True, type=click.IntRange(1),
              metavar="N", help="A source counts as failing after N failed checks in a row.")
@pass_ctx
def status_cmd(obj: Context, fmt: str, fail_after: int) -> None:
    """Per source: last success, errors, next check, interval, recent articles and
    extraction health. Exit status 1 if any source is failing (for monitoring).

    Articles in the last 24 h / 7 days count what was stored in that time. Extraction
    health compares the newest 20 articles with older ones: a jump in the share with an
    empty or very short body, no date or no author gives a warning (layout change?).
    """
    from aggregator.crawl import utc_now
    from aggregator.health import collect

    try:
        configured = obj.settings().sources
    except AggregatorError:
        configured = None  # no usable config: report what the database knows
    now = utc_now()
    with obj.store(create=False) as store:
        rows = collect(store, now, configured=configured, failing_streak=fail_after)
    if fmt == "json":
        click.echo(json.dumps({"generated": now.isoformat(timespec="seconds"),
                               "failing": sum(r.failing for r in rows),
                               "sources": [r.as_dict() for r in rows]},
                              ensure_ascii=False, indent=2))
    else:
        _table(rows)
    if any(r.failing for r in rows):
        raise click.exceptions.Exit(1)


def _short(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else "never"


def _table(rows: list) -> None:
    from aggregator.logs import human_seconds

    if not rows:
        click.echo("No sources.")
        return
    header = (f"{'SOURCE':<20} {'STATE':<13} {'LAST OK (UTC)':<16} {'NEXT CHECK':<16} "
              f"{'EVERY':>6} {'24H':>4} {'7D':>4} {'ERR':>3}")
    click.echo(click.style(header, bold=True))
    colours = {"ok": "green", "failing": "red", "warning": "yellow"}
    for r in rows:
        state = click.style(f"{r.state:<13}", fg=colours.get(r.state))
        click.echo(f"{r.name[:20]:<20} {state} {_short(r.last_success):<16} "
                   f"{_short(r.next_check):<16} {human_seconds(r.current_interval):>6} "
                   f"{r.articles_24h:>4} {r.articles_7d:>4} {r.error_streak:>3}")
        if r.error_streak and r.last_error:
            click.echo(f"{'':<20} last error: {r.last_error}")
        ex = r.extraction
        if ex and ex.recent.count:
            click.echo(f"{'':<20} extraction (last {ex.recent.count}): short body "
                       f"{ex.recent.short_body:.0%}, no date {ex.recent.no_date:.0%}, "
                       f"no author {ex.recent.no_author:.0%}")
        for w in r.warnings:
            click.echo(click.style(f"{'':<20} warning: {w}", fg="yellow"))
    failing = [r.name for r in rows if r.failing]
    if failing:
        click.echo(f"\n{len(failing)} failing: {', '.join(failing)}")


def register(cli: click.Group, sources: click.Group) -> None:
    cli.add_command(status_cmd)
