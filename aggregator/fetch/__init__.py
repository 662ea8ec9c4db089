"""The fetch layer: polite, bounded, guarded HTTP.

    from aggregator.fetch import Fetcher, FetchSettings, RobotsCache

    async with Fetcher(FetchSettings(allow_private=("127.0.0.1",))) as fetcher:
        page = await fetcher.fetch(url, etag=..., last_modified=..., accept="feed")

Modules: settings (FetchSettings), guard (address guard, guarded transport), robots
(RobotsCache), body (bounded decoding), backoff and charset (pure helpers), fetcher.
"""

from aggregator.fetch.fetcher import Fetcher, HostStatus
from aggregator.fetch.guard import GuardedTransport, classify_ip
from aggregator.fetch.robots import RobotsCache
from aggregator.fetch.settings import FetchSettings

__all__ = ["FetchSettings", "Fetcher", "GuardedTransport", "HostStatus", "RobotsCache",
           "classify_ip"]
