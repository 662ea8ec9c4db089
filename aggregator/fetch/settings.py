"""Fetch settings: one frozen value object, filled from the ``[fetch]`` table of the config."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_USER_AGENT = "aggregator/0.1 (+https://github.com/aggregator/aggregator; news aggregator)"


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 30.0  # total deadline per attempt (connect + headers + body, all hops)
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024  # cap on the decoded body
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # minimum seconds between request starts to one host
    max_concurrency: int = 32  # requests in flight overall
    retries: int = 2  # extra attempts for transient errors (timeouts, 5xx, resets)
    backoff_base: float = 1.0  # seconds; attempt n waits base * 2**n, with jitter
    max_retry_after: float = 3600.0  # Retry-After values are clamped to this
    allow_private: tuple[str, ...] = ()  # exact IPs / CIDRs allowed although not public
    robots: bool = True  # check robots.txt (a fetch(robots=False) call skips it too)
    robots_ttl: float = 86400.0  # seconds a robots.txt stays cached

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.max_redirects < 0 or self.retries < 0:
            raise ValueError("max_redirects and retries must not be negative")
        if self.per_host_concurrency < 1 or self.max_concurrency < 1:
            raise ValueError("concurrency limits must be at least 1")
        if self.per_host_delay < 0 or self.backoff_base < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")
        if isinstance(self.allow_private, str | list):
            object.__setattr__(self, "allow_private",
                               (self.allow_private,) if isinstance(self.allow_private, str)
                               else tuple(self.allow_private))
        for entry in self.allow_private:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"allow_private: {entry!r} is not an IP address or CIDR") from None
