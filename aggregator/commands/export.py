"""``aggregator export``: Atom, RSS, JSON Feed, JSON Lines or CSV from the database."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import click

from aggregator.cli_context import Context, pass_ctx, require_known
from aggregator.errors import OutputError


def write_atomic(path: str | Path, text: str | Iterable[str]) -> None:
    """Write ``text`` (a string, or its pieces) to ``path`` through a temporary file in the
    same folder and a rename: readers see the old file or the new one, never a part; an
    interrupted export leaves the old file in place. A path we cannot write raises
    OutputError naming it, before anything is touched."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError("is a folder, not a file", path=str(target))
    if not folder.is_dir():
        why = f"{folder} is not a folder" if folder.exists() else \
            f"folder {folder} does not exist"
        raise OutputError(why, path=str(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", path=str(target)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:
                fh.writelines(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write: {exc.strerror or exc}",
                              path=str(target)) from None
        raise


@click.command("export")
@click.option("--format", "fmt", required=True,
              type=click.Choice(["atom", "rss", "jsonfeed", "jsonl", "csv"]),
              help="Atom 1.0, RSS 2.0, JSON Feed 1.1, JSON Lines (the fields of "
                   "`show --format json`) or CSV.")
@click.option("--since", metavar="DATE", help="Published on or after DATE (2026-03-01, 7d).")
@click.option("--query", "-q", metavar="Q", help="Only articles matching this search.")
@click.option("--source", "-s", "sources", multiple=True, metavar="NAME",
              help="Only this source (repeatable).")
@click.option("--story", type=click.IntRange(min=1), metavar="ID",
              help="Only the articles of this story.")
@click.option("--limit", "-n", default=100, show_default=True, type=click.IntRange(1, 100_000),
              help="At most this many articles, the newest first (a note says when cut).")
@click.option("--all", "every", is_flag=True,
              help="Feeds: one entry per article instead of one per story.")
@click.option("-o", "--output", metavar="FILE",
              help="Write to FILE (atomically: a temporary file, then a rename). Default: stdout.")
@pass_ctx
def export_cmd(obj: Context, fmt: str, since: str | None, query: str | None,
               sources: tuple[str, ...], story: int | None, limit: int, every: bool,
               output: str | None) -> None:
    """Export stored articles as a feed or a data file (stories merged in feeds)."""
    from aggregator.crawl import utc_now
    from aggregator.export import (
        STREAMED,
        FeedInfo,
        build,
        iter_articles,
        select_article_ids,
        select_articles,
        story_members,
        stream,
    )
    from aggregator.search.dates import parse_when

    since_dt = parse_when(since, utc_now()) if since else None
    per_story = not every and story is None
    what = " ".join(p for p in (
        f"search {query!r}" if query else "", ", ".join(sources),
        f"story {story}" if story else "") if p) or "all sources"
    self_url = Path(output).resolve().as_uri() if output else "urn:aggregator:export"
    info = FeedInfo(title=f"aggregator: {what}", self_url=self_url)
    with obj.store(create=False) as store:
        require_known(store, sources=sources, story=story)
        if fmt in STREAMED:
            # record by record, straight from the store: memory stays flat at any --limit
            ids = select_article_ids(store, source=sources, query=query, since=since_dt,
                                     story=story, limit=limit)
            count = len(ids)
            _emit(output, stream(fmt, iter_articles(store, ids)), count)
        else:  # a feed needs every item first (its <updated> is the newest of them)
            articles = select_articles(store, source=sources, query=query, since=since_dt,
                                       story=story, limit=limit)
            count = len(articles)
            members = story_members(
                store, [a["story_id"] for a in articles if a.get("story_id")]
            ) if per_story else {}
            _emit(output, [build(fmt, info, articles, per_story=per_story, members=members)],
                  count)
    if count >= limit:  # more may match: say so rather than cut silently
        click.echo(f"Note: the {limit} newest matching articles; --limit N for more.", err=True)


def _emit(output: str | None, pieces: Iterable[str], count: int) -> None:
    """Write the export to ``output`` (atomically) or to stdout, piece by piece."""
    if output:
        write_atomic(output, pieces)
        click.echo(f"Wrote {count} article{'s' * (count != 1)} to {output}", err=True)
        return
    out = sys.stdout
    try:
        for piece in pieces:
            out.write(piece)
        out.flush()
    except BrokenPipeError:  # `aggregator export ... | head`: the reader has had enough
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        raise SystemExit(0) from None


def register(cli: click.Group, sources: click.Group) -> None:
    cli.add_command(export_cmd)
