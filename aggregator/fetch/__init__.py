"""The fetch layer: polite, bounded, guarded HTTP.

    from aggregator.fetch import Fetcher, FetchSettings

    async with Fetcher(FetchSettings(allow_private=("127.0.0.1",))) as fetcher:
        page = await fetcher.fetch(url, etag=old_etag, last_modified=old_lm, accept="feed")
        if page.not_modified: ...            # 304: empty content, validators echoed back

What one ``fetch`` does, in order, for the URL and then for every redirect hop (at most
``max_redirects``; 301/302/303/307/308, always re-sent as GET):

1. Address guard, before anything is sent: http/https only; IP literals must be public
   (or in ``allow_private``); numeric disguises (``2130706433``, ``127.1``, ``0x7f.1``) are
   refused. At connection time the guarded transport resolves the name itself, drops every
   non-public address, and connects to a checked address only (DNS rebinding safe).
   -> BlockedURLError
2. robots.txt of the hop's origin (unless ``robots=False`` in the call or the settings):
   cached ``robots_ttl``; 4xx = allow all; 5xx/429/unreachable = disallow for 5 minutes
   (a stale good copy is used instead when there is one); Crawl-delay raises the host's
   delay (capped at 60 s). -> RobotsDisallowed
3. Per-host slot: at most ``per_host_concurrency`` requests in flight per host name and
   ``per_host_delay`` seconds between their starts, ``max_concurrency`` overall. A host that
   answered 429/503 with Retry-After is not asked again before then: a wait under 30 s is
   waited out, a longer one fails at once -> HTTPStatusError(status, retry_after=seconds).
4. One attempt under a total deadline (``timeout``: connect + headers + body). Content-Length
   over ``max_bytes`` fails before the body; gzip/deflate/br are decoded here with the cap
   on the decoded size; truncated or malformed bodies fail. Content type must suit
   ``accept`` ("html", "feed" (also html, for discovery), "any"); a missing or generic type
   is sniffed. -> FetchTimeout, TransportError, TooLarge, BadContent, UnsupportedContent
5. Retries: timeouts, connection errors and 500/502/503/504/429 are retried ``retries`` times
   with exponential backoff and jitter (``backoff_base`` * 2**n * [0.5, 1.5)), through the
   injected ``sleep``. 4xx are not retried. -> HTTPStatusError after the last attempt

Every error is a FetchError subclass from aggregator.errors with ``url`` set.
``host_state(host)`` reports a host's in-flight count, delay and Retry-After for a scheduler.
Pure helpers: ``charset.decode_html``, ``charset.prepare_feed_bytes``,
``backoff.parse_retry_after``, ``backoff.error_backoff``.
"""

from aggregator.fetch.fetcher import Fetcher, HostStatus
from aggregator.fetch.guard import GuardedTransport, classify_ip
from aggregator.fetch.robots import RobotsCache
from aggregator.fetch.settings import FetchSettings

__all__ = ["FetchSettings", "Fetcher", "GuardedTransport", "HostStatus", "RobotsCache",
           "classify_ip"]
