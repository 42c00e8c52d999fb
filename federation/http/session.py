"""The process-wide client session: connection limits, timeouts, and the SSRF guard."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from aiohttp.connector import NEEDS_CLEANUP_CLOSED

from federation import __version__
from federation.config import Settings
from federation.http.ssrf import AddressPolicy

_CONNECTION_LIMIT = 256
_DNS_TTL = 300


def make_session(
    settings: Settings, trace_configs: Sequence[aiohttp.TraceConfig] = ()
) -> aiohttp.ClientSession:
    """The process-wide client session, with the SSRF guard in its connector."""
    limits = settings.limits
    connector = aiohttp.TCPConnector(
        limit=_CONNECTION_LIMIT,
        limit_per_host=limits.per_host_connections,
        ttl_dns_cache=_DNS_TTL,
        socket_factory=AddressPolicy(settings.allow_private_addresses).socket_factory,
        enable_cleanup_closed=NEEDS_CLEANUP_CLOSED,
    )
    # `connect` (which in aiohttp includes waiting for a pooled connection) stays unset: queueing
    # behind the per-host limit under load is not a dead peer; `total` bounds it anyway. No
    # separate read timeout either: a peer that answers slowly but within `total` is served.
    timeout = aiohttp.ClientTimeout(
        total=limits.total_timeout,
        sock_connect=limits.connect_timeout,
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
