"""``aggregator serve``: feeds and the JSON API over HTTP (see aggregator.serve)."""

from __future__ import annotations

import signal

import click

from aggregator.cli_context import Context, pass_ctx


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0: any free port).")
@click.option("--base-url", metavar="URL",
              help="Public address used in feed links (behind a reverse proxy).")
@pass_ctx
def serve_cmd(obj: Context, host: str, port: int, base_url: str | None) -> None:
    """Serve Atom/RSS/JSON feeds and a read-only JSON API of the database.

    Feeds: /feeds/all.atom, /feeds/SOURCE.rss, /feeds/search.json?q=... (one entry per story;
    ?all=1 for every article). API: /api/articles?since_id=&limit=&source=&q=,
    /api/articles/ID, /api/stories, /api/stories/ID, /api/sources.
    """
    from aggregator.serve import FeedServer

    with obj.store(create=False):
        pass  # a clear error now if the database is missing
    try:
        server = FeedServer(obj.db_path, host, port, base_url=base_url)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}"
                                   ) from None
    click.echo(f"Serving {obj.db_path} at {server.base_url}/ (feeds: {server.base_url}"
               "/feeds/all.atom); Ctrl-C to stop", err=True)
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


def register(cli: click.Group, sources: click.Group) -> None:
    cli.add_command(serve_cmd)
