"""The process-wide client session: connection limits, timeouts, and the SSRF guard."""

from __future__ import annotations

import resource
from collections.abc import Sequence

import aiohttp
from aiohttp.connector import NEEDS_CLEANUP_CLOSED

from federation import __version__
from federation.config import Settings
from federation.http.ssrf import AddressPolicy

_BUDGET_CAP = 2048
_DNS_TTL = 300


def in_flight_budget() -> int:
    """How many peer connections (and so deliveries in flight) this process can hold: half
    its open-file limit (the rest for the store, listeners and inbound clients), at most
    _BUDGET_CAP, where memory for buffers, not sockets, becomes the bound."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _BUDGET_CAP
    return max(16, min(soft // 2, _BUDGET_CAP))


def make_session(
    settings: Settings, trace_configs: Sequence[aiohttp.TraceConfig] = ()
) -> aiohttp.ClientSession:
    """The process-wide client session, with the SSRF guard in its connector."""
    limits = settings.limits
    connector = aiohttp.TCPConnector(
        limit=limits.max_connections or in_flight_budget(),
        limit_per_host=limits.per_host_connections,
        ttl_dns_cache=_DNS_TTL,
        socket_factory=AddressPolicy(settings.allow_private_addresses).socket_factory,
        enable_cleanup_closed=NEEDS_CLEANUP_CLOSED,
    )
    # `connect` (which in aiohttp includes waiting for a pooled connection) stays unset: queueing
    # behind the per-host limit under load is not a dead peer; `total` bounds it anyway.
    # `sock_read` is time to first byte and between bytes: a peer that accepts and never
    # answers fails fast (and opens its breaker at once), one that sends slowly is served.
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": f"federation/{__version__} (+{settings.base_url})"},
        cookie_jar=aiohttp.DummyCookieJar(),  # never store or send cookies
        auto_decompress=True,
        trust_env=False,  # no proxies or .netrc credentials from the environment
        trace_configs=list(trace_configs),  # spans and traceparent (observability/httpclient)
    )
