"""The command line. The only module that prints; it turns errors into one-line messages."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from aggregator import __version__
from aggregator.cli_context import DEFAULT_CONFIG, DEFAULT_DB, Context, pass_ctx, require_known
from aggregator.config import Settings, load_config
from aggregator.errors import AggregatorError, FetchError
from aggregator.export import article_json
from aggregator.models import ATTRIBUTION_KINDS

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class AggregatorGroup(click.Group):
    """Turns project errors into a one-line message and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AggregatorError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)




@click.group(cls=AggregatorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", default=None, metavar="PATH",
              help=f"SQLite database. Default: $AGGREGATOR_DB, else ./{DEFAULT_DB}.")
@click.option("--config", "config", default=None, metavar="PATH",
              help=f"Sources config (TOML). Default: $AGGREGATOR_CONFIG, else {DEFAULT_CONFIG}.")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config: str | None) -> None:
    """Crawl camera-industry news feeds and pages into SQLite, and search them."""
    ctx.obj = Context(
        db or os.environ.get("AGGREGATOR_DB") or DEFAULT_DB,
        config or os.environ.get("AGGREGATOR_CONFIG") or DEFAULT_CONFIG,
        db_option=db,
    )


# -- crawl --------------------------------------------------------------------------------
def _progress_printer() -> Callable[[str], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        click.echo(f"  {message}", err=True)

    return show


def _print_summary(summary: Any, count: int) -> None:
    errors = summary.errors
    failed = summary.failed_sources
    alerts = getattr(summary, "alerts", None)
    alert_errors = list(alerts.errors) if alerts is not None else []
    total = len(errors) + len(alert_errors)
    click.echo(
        f"Crawled {count} source{'s' * (count != 1)}: {summary.new_articles} new "
        f"article{'s' * (summary.new_articles != 1)}, {total} "
        f"error{'s' * (total != 1)}"
        + (f" ({len(failed)} source{'s' * (len(failed) != 1)} failed)" if failed else "")
    )
    for report in summary.reports:
        state = {"ok": "ok", "not-modified": "not modified", "failed": "FAILED"}[report.status]
        click.echo(f"  {report.name:<24} {state:<13} {report.new:>3} new, "
                   f"{report.known} already stored, {len(report.errors)} errors")
    if alerts is not None:
        click.echo(f"  watch alerts: {alerts.delivered} delivered, {alerts.failed} failed, "
                   f"{alerts.pending} pending (retried on the next crawl)"
                   + (f", {alerts.retried} from earlier runs" if alerts.retried else ""))
    for err in errors:
        click.echo(f"  error: {err}", err=True)
    for text in alert_errors:
        click.echo(f"  error: {text}", err=True)


def _crawl(settings: Settings, db_path: str, names: Iterable[str]) -> Any:
    from aggregator.crawl import run_crawl
    from aggregator.store import Store

    names = list(names)
    sources = [settings.source(n) for n in names] if names else [
        s for s in settings.sources if s.enabled]
    with Store.open(db_path) as store:
        summary = asyncio.run(run_crawl(settings, store, sources, progress=_progress_printer()))
    return summary, len(sources)


@cli.command()
@click.option("--source", "-s", "names", multiple=True, metavar="NAME",
              help="Crawl only this source (repeatable). Default: every enabled source.")
@pass_ctx
def crawl(obj: Context, names: tuple[str, ...]) -> None:
    """Fetch feeds and listing pages, then new articles, into the database."""
    summary, count = _crawl(obj.settings(), obj.db_path, names)
    _print_summary(summary, count)
    if not summary.anything_crawled:
        raise click.exceptions.Exit(1)


# -- search and show ----------------------------------------------------------------------
FORMATS_SEARCH = click.Choice(["table", "json", "jsonl", "csv", "urls"])
CSV_COLUMNS = ("id", "published", "source", "title", "canonical_url", "authors", "score",
               "story_id", "snippet")


class QueryCommand(click.Command):
    """A command with one QUERY argument that may start with '-' ("-NX-70 K9"): a dash word
    in the query's place that is not one of the command's options is the query, and so is
    the word after ``--`` (options may follow it). The query goes last, after ``--``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names: dict[str, bool] = {}  # option name -> takes a value
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    names[name] = not (param.is_flag or param.count)
        rest: list[str] = []
        query: list[str] = []
        plain = False  # a plain word (the query, for click) came before
        i = 0
        while i < len(args):
            word = args[i]
            i += 1
            if word == "--":
                if query:
                    rest.append(word)  # a second --: leave it to click
                    rest.extend(args[i:])
                    break
                query = args[i:i + 1]
                i += 1
                continue
            if word.startswith("-") and word != "-":
                name = word.split("=", 1)[0] if word.startswith("--") else word[:2]
                if name in names:
                    rest.append(word)
                    takes_value = names[name] and "=" not in word and (
                        word.startswith("--") or len(word) == 2)
                    if takes_value and i < len(args):
                        rest.append(args[i])
                        i += 1
                    continue
                if not (query or plain) and (not word.startswith("--") or " " in word):
                    query = [word]
                    continue
                raise click.UsageError(
                    f"no such option: {name}. To search for text that starts with '-', put"
                    f" it after --:  aggregator {ctx.info_name} -- {word!r}", ctx)
            rest.append(word)
            plain = True
        if query:
            rest += ["--", *query]
        return super().parse_args(ctx, rest)


@cli.command(cls=QueryCommand)
@click.argument("query")
@click.option("--source", "-s", "sources", multiple=True, metavar="NAME",
              help="Only articles from this source (repeatable).")
@click.option("--since", metavar="DATE", help="Published on or after DATE (2026-03-01, 7d, 2w, "
              "yesterday).")
@click.option("--until", metavar="DATE", help="Published before DATE.")
@click.option("--author", "authors", multiple=True, metavar="NAME",
              help="Written by NAME (repeatable: all must match).")
@click.option("--cites", multiple=True, metavar="NAME",
              help="Cites the outlet or organisation NAME (a source or press release).")
@click.option("--quoted", multiple=True, metavar="NAME", help="Quotes the person NAME.")
@click.option("--lang", metavar="CODE", help="Only articles in this language (en, de, ...).")
@click.option("--story", type=int, metavar="ID", help="Only articles of this story.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]),
              default="relevance", show_default=True)
@click.option("--all", "every", is_flag=True,
              help="Every matching article (default: one row per story).")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--format", "fmt", type=FORMATS_SEARCH, default="table", show_default=True)
@pass_ctx
def search(obj: Context, query: str, sources: tuple[str, ...], since: str | None,
           until: str | None, authors: tuple[str, ...], cites: tuple[str, ...],
           quoted: tuple[str, ...], lang: str | None, story: int | None, sort: str,
           every: bool, limit: int, fmt: str) -> None:
    """Full-text search of stored articles, best matches first (BM25, title weighted).

    Plain words need no syntax; "quoted phrases", prefix*, AND / OR / NOT and -word work too.
    """
    from aggregator.crawl import utc_now
    from aggregator.search.dates import parse_when
    from aggregator.search.query import parse_query
    from aggregator.store.search import SearchFilters
    from aggregator.store.search import search as run_search

    now = utc_now()
    filters = SearchFilters(
        sources=sources, limit=limit, authors=authors, cites=cites, quoted=quoted,
        language=lang, story_id=story, sort=sort,
        since=parse_when(since, now) if since else None,
        until=parse_when(until, now, end=True) if until else None,
    )
    with obj.store(create=False) as store:
        require_known(store, sources=sources, story=story)
        hits = run_search(store, query, filters, per_story=not every and story is None)
    if fmt == "json":
        click.echo(json.dumps(hits, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for hit in hits:
            click.echo(json.dumps(hit, ensure_ascii=False))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for hit in hits:
            writer.writerow(["; ".join(hit[c]) if c == "authors" else hit.get(c)
                             for c in CSV_COLUMNS])
        click.echo(out.getvalue(), nl=False)
    elif fmt == "urls":
        for hit in hits:
            click.echo(hit["canonical_url"] or hit["url"])
    else:
        terms = parse_query(query).terms
        _print_hits(hits, terms, color=sys.stdout.isatty())


def _highlight(text: str, terms: tuple[str, ...], color: bool) -> str:
    if not color or not terms:
        return text
    from aggregator.search.highlight import spans

    out, last = [], 0
    for start, end in spans(text, terms):
        out.append(text[last:start])
        out.append(click.style(text[start:end], bold=True, fg="yellow"))
        last = end
    out.append(text[last:])
    return "".join(out)


def _print_hits(hits: list[dict], terms: tuple[str, ...] = (), color: bool = False) -> None:
    if not hits:
        click.echo("No matches.")
        return
    for hit in hits:
        date = (hit["published"] or "")[:10] or "----------"
        click.echo(click.style(f"[{hit['id']}] ", dim=True)
                   + click.style(_highlight(hit["title"], terms, color), bold=True))
        line = f"     {date}  {hit['source']}  {hit['canonical_url'] or hit['url']}"
        more = (hit.get("story_articles") or 1) - 1
        if more > 0:
            others = max((hit.get("story_sources") or 1) - 1, 0)
            line += (f"  (+{more} more from {others or 1} source{'s' * (others > 1)}; "
                     f"aggregator story {hit['story_id']})")
        click.echo(line)
        if hit.get("snippet"):
            click.echo(f"     {_highlight(hit['snippet'], terms, color)}")
        click.echo()


@cli.command()
@click.argument("story_id", type=int, metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
def story(obj: Context, story_id: int, fmt: str) -> None:
    """One story: its articles in time order, with their sources and attributions."""
    with obj.store(create=False) as store:
        head = store._one("SELECT * FROM stories WHERE id = ?", (story_id,))
        if head is None:
            raise click.ClickException(f"no story with id {story_id}")
        ids = [r[0] for r in store.conn.execute(
            "SELECT id FROM articles WHERE story_id = ?"
            " ORDER BY coalesce(published, fetched), id", (story_id,))]
        articles = [store.article(i) for i in ids]
    if fmt == "json":
        click.echo(json.dumps({**head, "articles": [article_json(a) for a in articles if a]},
                              ensure_ascii=False, indent=2))
        return
    click.echo(click.style(f"Story {story_id}: {head['title']}", bold=True))
    click.echo(f"First seen {head['first_seen']} from {head['first_source']}; "
               f"{head['articles']} articles from {head['sources']} sources\n")
    for a in articles:
        if a is None:
            continue
        date = (a["published"] or a["fetched"] or "")[:16].replace("T", " ")
        dup = f"  (copy of [{a['duplicate_of']}])" if a.get("duplicate_of") else ""
        click.echo(f"{date}  [{a['id']}] {a['source']}: {a['title']}{dup}")
        click.echo(f"{'':18}{a['canonical_url']}")
        cited = [f"{x.get('role') or x['kind']} {x['name']}" for x in a["attributions"]
                 if x["kind"] in ("source", "press_release")]
        if cited:
            click.echo(f"{'':18}cites: {'; '.join(dict.fromkeys(cited))}")


@cli.command()
@click.argument("ident", metavar="ID|URL")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
def show(obj: Context, ident: str, fmt: str) -> None:
    """Print one stored article in full, with its attributions."""
    with obj.store(create=False) as store:
        article = _stored_article(obj, store, ident)
    if article is None:
        raise click.ClickException(f"no stored article with id or URL {ident!r}")
    _print_article(article, fmt)


def _stored_article(obj: Context, store: Any, ident: str) -> dict[str, Any] | None:
    """The article with this id or URL; a URL is also looked up in canonical form (tracking
    parameters, fragment, default port and AMP forms dropped), as the crawler stores it."""
    article = store.article(ident.strip())
    if article is not None or ident.strip().isdigit():
        return article
    from aggregator.dedup.urls import DEFAULT_TRACKING_PARAMS, canonical_url

    tracking = _tracking(obj) or DEFAULT_TRACKING_PARAMS
    try:
        form = canonical_url(ident.strip(), tracking_params=tracking)
    except ValueError:
        return None
    return store.article(form) if form and form != ident else None


def _published_line(article: dict[str, Any]) -> str | None:
    """The date the article is filed under, saying where it comes from when the page and the
    feed entry disagree (or the page states none)."""
    published, feed = article.get("published"), article.get("feed_published")
    if not published:
        return None
    if article.get("published_source") == "feed":
        return f"{published} (the feed's date; the page states none)"
    if feed and feed[:16] != published[:16]:
        return f"{published} (the page's date; the feed says {feed})"
    return published


def _print_article(article: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(article_json(article), ensure_ascii=False, indent=2))
        return
    click.echo(click.style(article["title"], bold=True))
    meta = [
        ("By", ", ".join(article.get("authors") or []) or None),
        ("Published", _published_line(article)),
        ("Source", article.get("source")),
        ("URL", article.get("canonical_url") or article.get("url")),
        ("Language", article.get("language")),
    ]
    for label, value in meta:
        if value:
            click.echo(f"{label + ':':<11}{value}")
    click.echo()
    click.echo(article.get("text") or "")
    attributions = article.get("attributions") or []
    if attributions:
        click.echo()
        click.echo(click.style("Attributions", bold=True))
        for kind in ATTRIBUTION_KINDS:
            rows = [a for a in attributions if a["kind"] == kind]
            if not rows:
                continue
            click.echo(f"  {kind}:")
            for a in rows:
                extra = [x for x in (a.get("role"), a.get("url")) if x]
                line = f"    - {a['name']}" + (f" ({'; '.join(extra)})" if extra else "")
                click.echo(line)
                if kind == "quote" and a.get("text"):
                    click.echo(f"      “{a['text']}”")


@cli.command("sources-of")
@click.argument("ident", metavar="ID|URL")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
def sources_of(obj: Context, ident: str, fmt: str) -> None:
    """Follow an article's citations through stored articles to the earliest origin."""
    from aggregator.store.trace import trace

    with obj.store(create=False) as store:
        article = _stored_article(obj, store, ident)
        if article is None:
            raise click.ClickException(f"no stored article with id or URL {ident!r}")
        root = trace(store, article["id"], tracking=_tracking(obj))
    if fmt == "json":
        click.echo(json.dumps(_trace_json(root), ensure_ascii=False, indent=2))
        return
    _print_trace(root, 0)
    origins = [o for o in root.origins() if o is not root]
    if origins:
        first = root.earliest_origin()
        click.echo()
        click.echo(f"Earliest stored origin: {_node_line(first)}")
        for o in origins:
            if o is not first:
                click.echo(f"Also at the end of a chain: {_node_line(o)}")
    else:
        click.echo("\nNo cited article is stored; this is the earliest stored version.")


def _tracking(obj: Context) -> tuple[str, ...] | None:
    try:
        return obj.settings().tracking_params
    except AggregatorError:
        return None


def _trace_json(node: Any) -> dict[str, Any]:
    return {
        "id": node.article_id, "title": node.title, "source": node.source, "url": node.url,
        "published": node.published,
        "via": {k: node.via.get(k) for k in ("kind", "name", "role", "url")} if node.via
        else None,
        "cites": [_trace_json(c) for c in node.cites],
        "unresolved": [{k: a.get(k) for k in ("kind", "name", "role", "url")}
                       for a in node.unresolved],
        "origins": [o.article_id for o in node.origins()],
        "earliest_origin": node.earliest_origin().article_id,
    }


def _node_line(node: Any) -> str:
    return (f"[{node.article_id}] {node.title} ({node.source}, "
            f"{(node.published or '')[:10] or 'undated'})")


def _print_trace(node: Any, depth: int) -> None:
    pad = "    " * depth
    relation = ""
    if node.via:
        relation = f"{node.via.get('role') or node.via['kind']} {node.via['name']} -> "
    date = (node.published or "")[:10] or "undated"
    click.echo(f"{pad}{relation}[{node.article_id}] {node.title} ({node.source}, {date})")
    for child in node.cites:
        _print_trace(child, depth + 1)
    for attr in node.unresolved:
        role = attr.get("role") or attr["kind"]
        where = f" <{attr['url']}>" if attr.get("url") else ""
        click.echo(f"{pad}    {role} {attr['name']}{where} (not stored)")


# -- extract ------------------------------------------------------------------------------
@cli.command()
@click.argument("target", metavar="FILE_OR_URL")
@click.option("--url", "page_url", metavar="URL",
              help="The page's address, for a saved file (resolves links, canonical URL).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
def extract(obj: Context, target: str, page_url: str | None, fmt: str) -> None:
    """Run the extractor on one page (a saved file, or a URL fetched once)."""
    from aggregator.extract import extract_article

    charset = None
    if target.startswith(("http://", "https://")):
        content, final_url, charset = asyncio.run(_fetch_once(obj, target))
        page_url = page_url or final_url
    else:
        path = Path(target)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"{target}: {exc.strerror or exc}") from None
        page_url = page_url or path.resolve().as_uri()
    article = extract_article(content, page_url, rules=_rules(obj), header_charset=charset)
    data = {
        "id": None, "url": article.url, "canonical_url": article.canonical_url or article.url,
        "source": None, "title": article.title, "authors": list(article.authors),
        "published": article.published.isoformat() if article.published else None,
        "modified": article.modified.isoformat() if article.modified else None,
        "fetched": None, "language": article.language, "summary": article.summary,
        "site_name": article.site_name, "image": article.image.url if article.image else None,
        "section": article.section, "tags": list(article.tags), "text": article.text,
        "attributions": [
            {"kind": a.kind, "name": a.name, "url": a.url, "role": a.role, "text": a.text,
             "position": a.position, "details": dict(a.details)}
            for a in article.attributions
        ],
    }
    _print_article(data, fmt)


def _rules(obj: Context) -> tuple:
    try:
        return obj.settings().rules
    except AggregatorError:
        return ()


async def _fetch_once(obj: Context, url: str) -> tuple[bytes, str, str | None]:
    from aggregator.fetch import Fetcher, FetchSettings

    try:
        fetch_settings = obj.settings().fetch
    except AggregatorError:
        fetch_settings = FetchSettings()
    async with Fetcher(fetch_settings) as fetcher:
        try:
            page = await fetcher.fetch(url, accept="html", robots=False)
        except FetchError as exc:
            raise click.ClickException(str(exc)) from None
    return page.content, page.final_url, page.charset


# -- sources ------------------------------------------------------------------------------
@cli.group("sources")
def sources_group() -> None:
    """Configured sources: list them with their state (also import/export OPML)."""


@sources_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_ctx
def sources_cmd(obj: Context, fmt: str) -> None:
    """List configured sources with their fetch state from the database."""
    settings = obj.settings()
    states: dict[str, dict] = {}
    if Path(obj.db_path).exists():
        with obj.store() as store:
            states = {s["name"]: s for s in store.sources()}
    rows = []
    for s in settings.sources:
        st = states.get(s.name, {})
        rows.append({
            "name": s.name, "title": s.title, "kind": s.kind, "url": s.url,
            "interval": s.interval, "enabled": s.enabled,
            "last_success": st.get("last_success"), "last_error": st.get("last_error"),
            "error_streak": st.get("error_streak") or 0, "next_check": st.get("next_check"),
            "articles": st.get("articles") or 0,
        })
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        state = "never crawled" if not (r["last_success"] or r["last_error"]) else (
            f"last ok {r['last_success'] or 'never'}; {r['articles']} articles")
        if r["error_streak"]:
            state += f"; failing x{r['error_streak']}: {r['last_error']}"
        click.echo(f"{r['name']:<22} {r['kind']:<8} every {_human(r['interval']):<6} {r['url']}")
        click.echo(f"{'':<22} {state}")


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# -- demo ---------------------------------------------------------------------------------
def _find(relative: str) -> Path:
    for base in (Path.cwd(), PROJECT_ROOT):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise click.ClickException(f"{relative}: not found (run from the project folder)")


DEMO_MARK = "demo_database"


def _fresh_demo_db(db: str) -> None:
    """The demo starts from an empty file each time (the fixture server's port changes), but
    never deletes a database it did not make."""
    from aggregator.store import Store

    path = Path(db)
    if path.exists():
        with Store.open(path) as store:
            marked = store.conn.execute(
                "SELECT value FROM meta WHERE key = ?", (DEMO_MARK,)).fetchone()
        if not marked:
            raise click.ClickException(
                f"{db}: exists and was not made by `aggregator demo`; choose another --db")
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    with Store.open(path) as store, store.transaction():
        store.conn.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (DEMO_MARK,))


@cli.command()
@click.option("--db", "db", default=None, metavar="PATH",
              help="Database the demo writes (made afresh on each run). Default: the global "
                   "--db if given, else ./demo.db.")
@click.option("--query", default="sensor", show_default=True, help="The example search.")
@click.pass_context
def demo(ctx: click.Context, db: str | None, query: str) -> None:
    """Offline demo: serve the bundled fixture site on 127.0.0.1 and crawl it."""
    import shlex

    from aggregator.fixture_server import FixtureServer
    from aggregator.store import Store
    from aggregator.store.search import SearchFilters
    from aggregator.store.search import search as run_search

    obj = ctx.find_object(Context)
    db = db or (obj.db_option if obj is not None else None) or "demo.db"
    shown = shlex.quote(db)
    site = _find("fixtures/site")
    config = _find("config/demo.toml")
    _fresh_demo_db(db)
    with FixtureServer(site) as server:
        click.echo(f"Serving the fixture site {site} at {server.base_url}")
        settings = load_config(config, variables={"base": server.base_url})
        click.echo(f"Crawling {len(settings.sources)} sources from {config} into {db} ...")
        summary, count = _crawl(settings, db, [])
        _print_summary(summary, count)
        click.echo("\nCrawling again: unchanged feeds answer 304, stored articles are skipped.")
        again, count = _crawl(settings, db, [])
        _print_summary(again, count)
    with Store.open(db) as store:
        total = store.count_articles()
        hits = run_search(store, query, SearchFilters(limit=3))
    click.echo(f"\n{total} articles stored in {db}. Example: aggregator --db {shown} search "
               f"{shlex.quote(query)}\n")
    _print_hits(hits)
    click.echo(f"Try: aggregator --db {shown} show {hits[0]['id'] if hits else 1}")
    if not summary.anything_crawled:
        raise click.exceptions.Exit(1)


def _register_commands() -> None:
    """Commands kept in their own modules (aggregator/commands/*.py) add themselves here."""
    from aggregator.commands import register_all

    register_all(cli, sources_group)


_register_commands()


def main() -> None:
    cli(prog_name="aggregator")


if __name__ == "__main__":
    main()
