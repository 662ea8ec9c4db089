"""``aggregator sources import FILE.opml`` and ``aggregator sources export``.

Import prints the new ``[[sources]]`` TOML by default; ``--append`` adds it to the config
file (checked first: the combined file must load, then written atomically). Feeds already
configured (same URL) are skipped. Folder names are kept as ``# category:`` comments, which
``sources export`` turns back into OPML folders.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aggregator.cli_context import Context, pass_ctx


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--append", is_flag=True,
              help="Append the new sources to the config file (default: print them).")
@click.option("--interval", default="1h", show_default=True,
              help="Check interval for imported feeds.")
@pass_ctx
def import_cmd(obj: Context, file: str, append: bool, interval: str) -> None:
    """Import feeds from an OPML file (folders become categories)."""
    from aggregator.config import parse_interval
    from aggregator.opml import parse_opml, to_toml

    try:
        parse_interval(interval)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from None
    feeds = parse_opml(Path(file).read_bytes(), file=file)
    config = Path(obj.config_path)
    existing = obj.settings().sources if config.exists() else ()
    text, skipped = to_toml(feeds, existing=existing, interval=interval)
    added = len(feeds) - len(skipped)
    if not append:
        sys.stdout.write(text)
        click.echo(f"{added} new feed(s), {len(skipped)} skipped (already configured or not "
                   "http(s)); add --append to write them to the config", err=True)
        return
    if not text:
        click.echo(f"Nothing to add ({len(skipped)} feed(s) already configured)", err=True)
        return
    _append_to_config(config, text)
    click.echo(f"Added {added} source(s) to {config}; {len(skipped)} skipped", err=True)


def _append_to_config(config: Path, text: str) -> None:
    import tomllib

    from aggregator.commands.export import write_atomic
    from aggregator.config import parse_config

    old = config.read_text(encoding="utf-8") if config.exists() else ""
    new = old + ("\n" if old and not old.endswith("\n") else "") + ("\n" if old else "") + text
    parse_config(tomllib.loads(new), file=str(config))  # refuse to write a broken config
    write_atomic(config, new)


@click.command("export")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (default: stdout).")
@pass_ctx
def export_opml_cmd(obj: Context, output: str | None) -> None:
    """Export the configured sources as OPML 2.0 (categories as folders)."""
    from aggregator.crawl import utc_now
    from aggregator.opml import build_opml, categories_from_toml

    settings = obj.settings()
    try:
        categories = categories_from_toml(Path(obj.config_path).read_text(encoding="utf-8"))
    except OSError:
        categories = {}
    text = build_opml(settings.sources, categories=categories, created=utc_now())
    if output:
        from aggregator.commands.export import write_atomic

        write_atomic(output, text)
    else:
        sys.stdout.write(text)


def register(cli: click.Group, sources: click.Group) -> None:
    sources.add_command(import_cmd)
    sources.add_command(export_opml_cmd)
