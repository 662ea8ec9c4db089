"""The exception tree. Every error carries its reason and, where it has one, the URL,
file or field it is about. Third-party errors (httpx, sqlite3, tomllib, feedparser) are
translated into these at the module boundary.

    AggregatorError
    ├── ConfigError            file, source, field
    ├── FetchError             url
    │   ├── BlockedURLError        scheme or address not allowed (never requested)
    │   ├── RobotsDisallowed       robots.txt says no
    │   ├── HTTPStatusError        4xx/5xx after retries (status, retry_after)
    │   ├── TransportError         connect/read failures, resets, DNS
    │   ├── FetchTimeout           the total deadline passed
    │   ├── TooLarge               body over the size cap
    │   ├── TooManyRedirects
    │   ├── BadContent             truncated body, bad encoding
    │   └── UnsupportedContent     content type we do not handle
    ├── FeedError              url: not a feed we can read
    ├── ListingError           url: listing page without article links
    ├── NoArticle              url: the page has no article (index, 404, video-only, ...)
    ├── StoreError             database problems
    ├── OutputError            path: a file we cannot write (missing folder, a folder, ...)
    └── QueryError             a search query we cannot run
"""

from __future__ import annotations


class AggregatorError(Exception):
    """Base of all errors the CLI turns into a one-line message."""

    kind = "error"

    def __init__(self, reason: str, *, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}" if self.url else self.reason


class ConfigError(AggregatorError):
    kind = "config"

    def __init__(
        self, reason: str, *, file: str | None = None, source: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.file = file
        self.source = source
        self.field = field

    def __str__(self) -> str:
        where = [p for p in (
            self.file,
            f"source {self.source!r}" if self.source else None,
            f"field {self.field!r}" if self.field else None,
        ) if p]
        return ": ".join([*where, self.reason])


class FetchError(AggregatorError):
    kind = "fetch"


class BlockedURLError(FetchError):
    kind = "blocked"


class RobotsDisallowed(FetchError):
    kind = "robots"

    def __init__(self, reason: str, *, url: str | None = None, temporary: bool = False) -> None:
        super().__init__(reason, url=url)
        #: robots.txt could not be read (5xx, unreachable): disallowed for now, not for good
        self.temporary = temporary


class HTTPStatusError(FetchError):
    kind = "http"

    def __init__(self, reason: str, *, url: str | None = None, status: int = 0,
                 retry_after: float | None = None) -> None:
        super().__init__(reason, url=url)
        self.status = status
        self.retry_after = retry_after


class TransportError(FetchError):
    kind = "transport"


class FetchTimeout(FetchError):
    kind = "timeout"


class TooLarge(FetchError):
    kind = "too-large"


class TooManyRedirects(FetchError):
    kind = "redirects"


class BadContent(FetchError):
    kind = "bad-content"


class UnsupportedContent(FetchError):
    kind = "unsupported-content"


class FeedError(AggregatorError):
    kind = "feed"


class ListingError(AggregatorError):
    kind = "listing"


class NoArticle(AggregatorError):
    kind = "no-article"


class StoreError(AggregatorError):
    kind = "store"


class QueryError(AggregatorError):
    kind = "query"


class OutputError(AggregatorError):
    """A file we cannot write: ``path`` is the file, ``reason`` why."""

    kind = "output"

    def __init__(self, reason: str, *, path: str) -> None:
        super().__init__(reason)
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
