"""The HTTP server for downstream readers: feeds and a read-only JSON API.

Stack: the standard library's ``http.server.ThreadingHTTPServer``. The server is read-only,
small (a dozen GET routes) and meant for loopback or behind a reverse proxy; the stdlib
server is enough for that, adds no dependency and no event loop next to the crawler's, and
each request opens its own SQLite connection (WAL lets readers run beside the crawl's
writer). All routing and HTTP semantics live in ``App.handle`` (method, path, query,
headers -> ``Response``), which tests can call directly; ``Handler`` only moves bytes. If
the API grows (auth, streaming, many clients), the same ``App`` can be wrapped by a WSGI
or ASGI stack.

Routes (GET and HEAD):

    /feeds/all.{atom,rss,json}          every source, one entry per story (?all=1: per article)
    /feeds/<source>.{atom,rss,json}     one source (also /feeds/source/<source>.atom, which
                                        works for sources named "all" or "search")
    /feeds/search.{atom,rss,json}?q=    full-text search (best matches first)
    /api/articles?since_id=&limit=&source=&q=
                                        articles with id > since_id, ascending; the answer's
                                        ``next_since_id`` is the cursor for the next page. Ids
                                        grow in commit order (one writer at a time), so pages
                                        never skip or repeat while new articles arrive.
    /api/articles/<id>                  one article with sanitized ``content_html``
    /api/stories?since_id=&limit=       stories, ascending by id, same cursor
    /api/stories/<id>                   one story with its articles
    /api/sources                        sources with their health
    /                                   an index of the routes

Every answer has an ETag (hash of the body) and, when known, Last-Modified (the newest
change in the database); ``If-None-Match`` / ``If-Modified-Since`` give 304. Errors are
JSON ``{"error": {"status", "message"}}``; bad parameters give 400 with a message.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from aggregator.errors import AggregatorError, QueryError, StoreError
from aggregator.export import (
    MEDIA_TYPES,
    FeedInfo,
    article_json,
    build,
    dumps_json,
    select_articles,
    story_members,
)
from aggregator.sanitize import sanitize_html, text_to_html
from aggregator.store import Store

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
FEED_EXTENSIONS = {"atom": "atom", "rss": "rss", "json": "jsonfeed"}
JSON_TYPE = "application/json; charset=utf-8"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; sandbox"),
    ("Referrer-Policy", "no-referrer"),
    ("Access-Control-Allow-Origin", "*"),
    ("Cache-Control", "no-cache"),
)


class HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str) -> Response:
    body = dumps_json({"error": {"status": status, "message": message}}) + "\n"
    return Response(status, body.encode("utf-8"))


# -- parameters ---------------------------------------------------------------------------
class Params:
    """Query parameters with typed, validated access (every problem is a 400)."""

    def __init__(self, query: str) -> None:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, errors="strict",
                              max_num_fields=50)
        except (UnicodeDecodeError, ValueError) as exc:
            raise HTTPError(400, f"bad query string: {exc}") from None
        self.values: dict[str, list[str]] = {}
        for k, v in pairs:
            self.values.setdefault(k, []).append(v)

    def one(self, name: str) -> str | None:
        vals = self.values.get(name)
        if not vals:
            return None
        if len(vals) > 1:
            raise HTTPError(400, f"parameter {name!r} given more than once")
        return vals[0]

    def only(self, *names: str) -> None:
        """400 for any parameter not in ``names`` (an unknown one is never ignored)."""
        unknown = [k for k in self.values if k not in names]
        if unknown:
            allowed = ", ".join(names) if names else "none"
            raise HTTPError(400, f"unknown parameter {unknown[0]!r} (allowed here: {allowed})")

    def many(self, name: str) -> tuple[str, ...]:
        return tuple(v for v in self.values.get(name, []) if v)

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.one(name)
        if raw is None or raw == "":
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
            raise HTTPError(400, f"parameter {name!r} must be a whole number, got {raw!r}")
        value = int(raw)
        if not lo <= value <= hi:
            raise HTTPError(400, f"parameter {name!r} must be between {lo} and {hi}")
        return value

    def flag(self, name: str) -> bool:
        raw = self.one(name)
        if raw is None:
            return False
        lowered = raw.lower()
        if lowered in ("", "1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise HTTPError(400, f"parameter {name!r} must be 1 or 0, got {raw!r}")

    def date(self, name: str) -> datetime | None:
        """A date as ``aggregator search --since`` reads it (2026-03-01, 7d, 2w, today)."""
        from aggregator.search.dates import parse_when

        raw = self.one(name)
        if not raw:
            return None
        try:
            return parse_when(raw, datetime.now(UTC))
        except (QueryError, ValueError, OverflowError) as exc:
            raise HTTPError(400, f"parameter {name!r}: {exc}") from None


# -- the application ----------------------------------------------------------------------
class App:
    """Routing and HTTP semantics, independent of the socket server."""

    def __init__(self, db_path: str, *, base_url: str | None = None) -> None:
        self.db_path = db_path
        self.base_url = base_url.rstrip("/") if base_url else None

    def handle(self, method: str, target: str, headers: Mapping[str, str]) -> Response:
        if method not in ("GET", "HEAD"):
            resp = _error(405, f"method {method} not allowed (GET and HEAD only)")
            resp.headers["Allow"] = "GET, HEAD"
            return resp
        try:
            parts = urlsplit(target)
            path = unquote(parts.path, errors="strict")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "bad request target")
        try:
            params = Params(parts.query)
            with Store.open(self.db_path, create=False) as store:
                # one read snapshot for the validators and the body: Last-Modified never
                # claims a change the body does not contain
                store.conn.execute("BEGIN")
                try:
                    last = _db_last_modified(store)
                    resp = self._route(store, path, params, headers)
                finally:
                    store.conn.execute("ROLLBACK")
        except HTTPError as exc:
            return _error(exc.status, exc.message)
        except QueryError as exc:
            return _error(400, str(exc))
        except StoreError as exc:
            return _error(503, str(exc))
        except AggregatorError as exc:
            return _error(400, str(exc))
        except Exception:  # a bug: logged, answered as JSON
            log.exception("internal error serving %s", target)
            return _error(500, "internal error")
        return _conditional(resp, headers, last)

    # routing
    def _route(self, store: Store, path: str, params: Params,
               headers: Mapping[str, str]) -> Response:
        segs = [s for s in path.split("/") if s]
        if not segs:
            params.only()
            return self._json(self._index(headers))
        if segs[0] == "feeds" and len(segs) in (2, 3) and "." in segs[-1]:
            name, _, ext = segs[-1].rpartition(".")
            # /feeds/source/<name>.atom always means a source (even one named "all")
            if len(segs) == 3 and segs[1] != "source":
                raise HTTPError(404, f"no such resource: {path}")
            if ext in FEED_EXTENSIONS and name:
                params.only("limit", "all", "since", "q")
                return self._feed(store, name, FEED_EXTENSIONS[ext], params, headers, path,
                                  source_only=len(segs) == 3)
        if segs[0] == "api":
            rest = segs[1:]
            if rest == ["articles"]:
                params.only("since_id", "limit", "source", "q")
                return self._articles(store, params, headers, path)
            if len(rest) == 2 and rest[0] == "articles":
                params.only()
                return self._article(store, _id(rest[1], "article"))
            if rest == ["stories"]:
                params.only("since_id", "limit")
                return self._stories(store, params, headers, path)
            if len(rest) == 2 and rest[0] == "stories":
                params.only()
                return self._story(store, _id(rest[1], "story"))
            if rest == ["sources"]:
                params.only()
                return self._sources(store)
        raise HTTPError(404, f"no such resource: {path}")

    def _base(self, headers: Mapping[str, str]) -> str:
        if self.base_url:
            return self.base_url
        host = headers.get("Host") or headers.get("host") or "localhost"
        if not all(c.isalnum() or c in ".-:[]" for c in host):
            host = "localhost"
        return f"http://{host}"

    def _json(self, value: Any) -> Response:
        return Response(200, (dumps_json(value, indent=2) + "\n").encode("utf-8"))

    def _index(self, headers: Mapping[str, str]) -> dict[str, Any]:
        base = self._base(headers)
        return {"feeds": {f: f"{base}/feeds/all.{f}" for f in FEED_EXTENSIONS},
                "api": [f"{base}/api/articles", f"{base}/api/stories",
                        f"{base}/api/sources"]}

    # feeds
    def _feed(self, store: Store, name: str, fmt: str, params: Params,
              headers: Mapping[str, str], path: str, *, source_only: bool = False
              ) -> Response:
        limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        per_story = not params.flag("all")
        since = params.date("since")
        base = self._base(headers)
        query = params.one("q")
        sources: tuple[str, ...] = ()
        if name == "search" and not source_only:
            if not query or not query.strip():
                raise HTTPError(400, "parameter 'q' is required for the search feed")
            title = f"Search: {query}"
        elif name == "all" and not source_only:
            query = None
            title = "All sources"
        else:
            row = store._all("SELECT name, title FROM sources WHERE name = ?", (name,))
            if not row and not store.count_articles(name):
                raise HTTPError(404, f"no source named {name!r}")
            sources = (name,)
            title = (row[0]["title"] if row else None) or name
            query = None
        # fetch more than asked for, so a page of stories is full after grouping
        fetch_n = min(limit * 4, 2000) if per_story else limit
        articles = select_articles(store, source=sources, query=query, since=since,
                                   limit=fetch_n)
        members = (story_members(store, [a["story_id"] for a in articles if a.get("story_id")])
                   if per_story else {})
        self_url = base + quote(path) + ("?" + urlencode(
            [(k, v) for k, vs in params.values.items() for v in vs]) if params.values else "")
        info = FeedInfo(title=f"aggregator: {title}", self_url=self_url,
                        home_url=base + "/", feed_id=self_url)
        if per_story:
            articles = _first_stories(articles, limit)
        body = build(fmt, info, articles, per_story=per_story, members=members)
        return Response(200, body.encode("utf-8"), MEDIA_TYPES[fmt])

    # API
    def _articles(self, store: Store, params: Params, headers: Mapping[str, str],
                  path: str) -> Response:
        since_id = params.integer("since_id", 0, 0, 2**53)
        limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        sources = params.many("source")
        query = params.one("q")
        unknown = store.unknown_sources(sources)
        if unknown:
            raise HTTPError(400, f"parameter 'source': no source named {unknown[0]!r}")
        where, args = ["a.id > ?"], [since_id]
        if sources:
            where.append(f"a.source IN ({', '.join('?' * len(sources))})")
            args.extend(sources)
        if query:
            from aggregator.search.query import parse_query

            fts = parse_query(query).fts
            sql = ("SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
                   " WHERE articles_fts MATCH ? AND " + " AND ".join(where))
            args = [fts, *args]
        else:
            sql = "SELECT a.id FROM articles a WHERE " + " AND ".join(where)
        try:
            ids = [r["id"] for r in store._all(sql + " ORDER BY a.id LIMIT ?",
                                               (*args, limit + 1))]
        except sqlite3.OperationalError as exc:
            raise HTTPError(400, f"cannot search for {query!r}: {exc}") from None
        has_more = len(ids) > limit
        ids = ids[:limit]
        items = [_api_article(a) for a in (store.article(i) for i in ids) if a is not None]
        cursor = ids[-1] if ids else since_id
        nxt = [("since_id", str(cursor)), ("limit", str(limit))]
        nxt += [("source", s) for s in sources] + ([("q", query)] if query else [])
        return self._json({
            "articles": items, "count": len(items), "since_id": since_id,
            "next_since_id": cursor, "has_more": has_more,
            "next": f"{self._base(headers)}{path}?{urlencode(nxt)}",
        })

    def _article(self, store: Store, article_id: int) -> Response:
        art = store.article(article_id)
        if art is None:
            raise HTTPError(404, f"no article with id {article_id}")
        return self._json(_api_article(art))

    def _stories(self, store: Store, params: Params, headers: Mapping[str, str],
                 path: str) -> Response:
        since_id = params.integer("since_id", 0, 0, 2**53)
        limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        rows = store._all("SELECT * FROM stories WHERE id > ? ORDER BY id LIMIT ?",
                          (since_id, limit + 1))
        has_more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1]["id"] if rows else since_id
        return self._json({
            "stories": rows, "count": len(rows), "since_id": since_id,
            "next_since_id": cursor, "has_more": has_more,
            "next": f"{self._base(headers)}{path}?"
                    + urlencode([("since_id", cursor), ("limit", limit)]),
        })

    def _story(self, store: Store, story_id: int) -> Response:
        rows = store._all("SELECT * FROM stories WHERE id = ?", (story_id,))
        members = story_members(store, [story_id]).get(story_id, [])
        if not rows and not members:
            raise HTTPError(404, f"no story with id {story_id}")
        story = rows[0] if rows else {"id": story_id}
        story["members"] = members
        return self._json(story)

    def _sources(self, store: Store) -> Response:
        errors = {r["source"]: r for r in store._all(
            "SELECT source, count(*) AS n, max(at) AS last FROM fetch_errors GROUP BY source")}
        out = []
        for row in store.sources():
            streak = row.get("error_streak") or 0
            status = ("never-checked" if not row.get("last_checked")
                      else "failing" if streak else "ok")
            err = errors.get(row["name"], {})
            out.append({**row, "health": {
                "status": status, "error_streak": streak, "last_error": row.get("last_error"),
                "last_success": row.get("last_success"), "errors_recorded": err.get("n", 0),
                "last_error_at": err.get("last"),
            }})
        return self._json({"sources": out, "count": len(out)})


def _first_stories(articles: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Articles of the first ``limit`` distinct stories (articles without a story count one)."""
    keys: list[Any] = []
    out = []
    for a in articles:
        key = ("s", a["story_id"]) if a.get("story_id") is not None else ("a", a["id"])
        if key not in keys:
            if len(keys) >= limit:
                continue
            keys.append(key)
        out.append(a)
    return out


def _id(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise HTTPError(400, f"{what} id must be a whole number, got {raw!r}")
    return int(raw)


def _api_article(article: dict[str, Any]) -> dict[str, Any]:
    out = article_json(article)
    base = article.get("url") or article.get("canonical_url")
    html = sanitize_html(article.get("html"), base) if article.get("html") else ""
    out["content_html"] = html or text_to_html(article.get("text"))
    return out


def _db_last_modified(store: Store) -> datetime | None:
    stamps = []
    for sql in ("SELECT fetched FROM articles ORDER BY id DESC LIMIT 1",
                "SELECT max(updated) AS v FROM stories",
                "SELECT max(last_checked) AS v FROM sources"):
        rows = store.conn.execute(sql).fetchall()
        if rows and rows[0][0]:
            try:
                dt = datetime.fromisoformat(str(rows[0][0]))
            except ValueError:
                continue
            stamps.append(dt if dt.tzinfo else dt.replace(tzinfo=UTC))
    return max(stamps).astimezone(UTC).replace(microsecond=0) if stamps else None


def _conditional(resp: Response, headers: Mapping[str, str],
                 last: datetime | None) -> Response:
    if resp.status != 200:
        return resp
    etag = '"' + hashlib.sha256(resp.body).hexdigest()[:32] + '"'
    resp.headers["ETag"] = etag
    if last is not None:
        resp.headers["Last-Modified"] = format_datetime(last, usegmt=True)
    inm = _header(headers, "If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        if etag in tags or "*" in tags:
            return Response(304, b"", resp.content_type, resp.headers)
        return resp
    ims = _header(headers, "If-Modified-Since")
    if ims and last is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return resp
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        if last <= since:
            return Response(304, b"", resp.content_type, resp.headers)
    return resp


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


# -- the socket server --------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server_version = "aggregator"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    app: App  # set on the subclass made by make_server

    def _serve(self, method: str) -> None:
        resp = self.app.handle(method, self.path, dict(self.headers.items()))
        # a request body is never read: close the connection, so it is not taken for the
        # next request on a kept-alive connection
        has_body = (self.headers.get("Content-Length", "0").strip() not in ("", "0")
                    or "Transfer-Encoding" in self.headers)
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        if has_body:
            self.send_header("Connection", "close")
            self.close_connection = True
        for k, v in (*SECURITY_HEADERS, *resp.headers.items()):
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if method != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, too long headers) as JSON too."""
        body = (dumps_json({"error": {"status": code, "message": message
                                      or HTTPStatus(code).phrase}}) + "\n").encode("utf-8")
        self.send_response(code, message)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    """A client that goes away mid-request (reset, broken pipe, timeout) is logged as one
    line, not printed as a traceback; anything else is logged with its traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        where = (f"{client_address[0]}:{client_address[1]}"
                 if isinstance(client_address, tuple) and len(client_address) >= 2
                 else str(client_address))
        if isinstance(exc, ConnectionError | TimeoutError):
            log.warning("client %s: connection lost (%s: %s)", where, type(exc).__name__,
                        getattr(exc, "strerror", None) or exc)
            return
        log.error("client %s: error handling the request: %s: %s", where,
                  type(exc).__name__, exc, exc_info=exc)


class FeedServer:
    """The server on ``host:port`` (port 0: a free one), run in a thread or in the foreground.

        with FeedServer("aggregator.db", port=0) as server:
            httpx.get(server.base_url + "/feeds/all.atom")
    """

    def __init__(self, db_path: str, host: str = "127.0.0.1", port: int = 8080,
                 *, base_url: str | None = None) -> None:
        app = App(db_path, base_url=base_url)
        handler = type("BoundHandler", (Handler,), {"app": app})
        self.httpd = _Server((host, port), handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        if base_url is None:
            shown = f"[{self.host}]" if ":" in str(self.host) else str(self.host)
            app.base_url = f"http://{shown}:{self.port}"
        self.app = app
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.app.base_url or f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
        self.httpd.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
