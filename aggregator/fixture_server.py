"""Serve the bundled fixture web site (``fixtures/site``) on loopback, for tests and the demo.

Standard library only: a ``ThreadingHTTPServer`` running in a daemon thread.

    with FixtureServer() as site:          # root defaults to default_site_root()
        site.url("/camerablog/feed.xml")   # -> "http://127.0.0.1:PORT/camerablog/feed.xml"
        site.hits["/camerablog/feed.xml"]  # how many times that path was requested

What it does, like a small but correct static web server:

- GET and HEAD; other methods get 501 (http.server's default).
- Content-Type by extension; ``.xml`` is ``application/rss+xml`` or ``application/atom+xml``
  by sniffing the root element (plain ``application/xml`` otherwise), with the charset of the
  XML declaration; ``.html`` carries the charset of its ``<meta charset>`` (utf-8 if none).
- The literal token ``{{BASE}}`` in text files is replaced by :attr:`FixtureServer.base_url`.
  The replacement works on bytes, so files in legacy charsets keep their bytes intact.
- A strong ``ETag`` (hash of the bytes served) and ``Last-Modified`` (the file's mtime);
  ``If-None-Match`` / ``If-Modified-Since`` are answered with 304.
- 404 with a small HTML body for missing files; a directory URL serves its ``index.html``
  (a directory without the trailing slash is redirected to it); ``..`` segments get 403.
- ``_headers.json`` at the site root maps a URL path to header overrides, e.g.
  ``{"/fotoblog/x.html": {"Content-Type": "text/html; charset=windows-1252"}}``.
  Files whose name starts with ``_`` are never served.
- No logging to stderr.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

__all__ = ["FixtureServer", "default_site_root", "BASE_TOKEN"]

BASE_TOKEN = b"{{BASE}}"

_TEXT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
}
_BINARY_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.IGNORECASE
)
_XML_ROOT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")


def default_site_root() -> Path:
    """The ``fixtures/site`` folder of a source checkout (next to the package), else ./."""
    candidates = [
        Path(__file__).resolve().parent.parent / "fixtures" / "site",
        Path.cwd() / "fixtures" / "site",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"fixture site not found (tried {tried}); run from a source checkout of the project "
        "or pass the folder explicitly: FixtureServer(root=Path(...))"
    )


def _content_type(path: Path, body: bytes) -> str:
    """Content-Type for a file, by extension, with the charset the file declares."""
    ext = path.suffix.lower()
    if ext in _BINARY_TYPES:
        return _BINARY_TYPES[ext]
    media = _TEXT_TYPES.get(ext, "application/octet-stream")
    if media == "application/octet-stream":
        return media
    if ext == ".xml":
        match = _XML_ROOT.search(body[:4096])
        root = match.group(1).split(b":")[-1].lower() if match else b""
        if root == b"rss" or root == b"rdf":
            media = "application/rss+xml"
        elif root == b"feed":
            media = "application/atom+xml"
        decl = _XML_DECL_ENCODING.match(body)
        charset = decl.group(1).decode("ascii").lower() if decl else "utf-8"
    elif media == "text/html":
        meta = _META_CHARSET.search(body[:4096])
        charset = meta.group(1).decode("ascii").lower() if meta else "utf-8"
    else:
        charset = "utf-8"
    return f"{media}; charset={charset}"


def _is_text(path: Path) -> bool:
    return path.suffix.lower() in _TEXT_TYPES


def _not_found_body(path: str) -> bytes:
    from html import escape

    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>404 Not Found</title>"
        f"</head>\n<body><h1>404 Not Found</h1><p>No such page: {escape(path)}</p></body></html>\n"
    ).encode()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 makes bursts of connects wait for SYN retries

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        """Clients that hang up mid-response are normal in tests; say nothing."""


class FixtureServer:
    """The fixture site on ``http://127.0.0.1:PORT`` (a free port unless ``port`` is given)."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve() if root is not None else default_site_root()
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture site folder does not exist: {self.root}")
        self.host = host
        self.port = port
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None
        self._overrides = self._load_overrides()

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> FixtureServer:
        if self._server is not None:
            return self
        self._server = _QuietServer((self.host, self.port), self._handler_class())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fixture-server:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and counters -----------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FixtureServer is not started; call .start() or use `with`")
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL for a site path (``"camerablog/feed.xml"`` or ``"/camerablog/..."``)."""
        return self.base_url + "/" + path.lstrip("/")

    def reset_hits(self) -> None:
        with self._lock:
            self.hits.clear()

    def hit_count(self, path: str) -> int:
        with self._lock:
            return self.hits[path]

    def _count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    # -- content --------------------------------------------------------------------------
    def _load_overrides(self) -> dict[str, dict[str, str]]:
        file = self.root / "_headers.json"
        if not file.is_file():
            return {}
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{file}: expected an object mapping paths to header objects")
        return {str(k): {str(h): str(v) for h, v in dict(v).items()} for k, v in data.items()}

    def resolve(self, url_path: str) -> Path | None:
        """The file a URL path names, or None. Raises PermissionError for traversal."""
        segments = unquote(url_path).split("/")
        if any(seg in ("..", ".") or "\\" in seg or "\x00" in seg for seg in segments):
            raise PermissionError(url_path)
        rel = [seg for seg in segments if seg]
        if any(seg.startswith("_") for seg in rel):
            return None
        target = self.root.joinpath(*rel).resolve() if rel else self.root
        if not target.is_relative_to(self.root):
            raise PermissionError(url_path)
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def render(self, file: Path) -> bytes:
        """The bytes served for a file: ``{{BASE}}`` replaced in text files."""
        body = file.read_bytes()
        if _is_text(file) and self._server is not None:
            body = body.replace(BASE_TOKEN, self.base_url.encode("ascii"))
        return body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(_FixtureHandler):
            server_site = site

        return Handler


class _FixtureHandler(BaseHTTPRequestHandler):
    server_site: FixtureServer
    server_version = "FixtureServer/1.0"
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections are closed after this many seconds

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent: tests and the demo want no stderr noise."""

    def do_GET(self) -> None:  # noqa: N802
        self._serve(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        site = self.server_site
        url_path = urlsplit(self.path).path or "/"
        site._count(unquote(url_path))
        try:
            file = site.resolve(url_path)
        except PermissionError:
            self._simple(HTTPStatus.FORBIDDEN, b"<h1>403 Forbidden</h1>\n", send_body)
            return
        if file is None:
            self._simple(HTTPStatus.NOT_FOUND, _not_found_body(url_path), send_body)
            return
        if file.name == "index.html" and not url_path.endswith(("/", ".html")):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", url_path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        body = site.render(file)
        mtime = int(file.stat().st_mtime)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            "Content-Type": _content_type(file, body),
            "ETag": etag,
            "Last-Modified": formatdate(mtime, usegmt=True),
            "Cache-Control": "no-cache",
        }
        headers.update(site._overrides.get(unquote(url_path), {}))

        if self._not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name in ("ETag", "Last-Modified", "Cache-Control"):
                self.send_header(name, headers[name])
            self.end_headers()
            return

        self.send_response(HTTPStatus.OK)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-Modified-Since is ignored when If-None-Match is sent
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return since.timestamp() >= mtime
        return False

    def _simple(self, status: HTTPStatus, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
