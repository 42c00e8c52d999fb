"""The process's one cache of per-host records (HostStore): the delivery health tracker's
breaker and failure counts and the transport's learned signature scheme are fields of the same
record, so they are cached once, here, with one invalidation.

Writes go through to the store and update the cached record; a record is read again from the
store `ttl` seconds after it was last read or written, so other processes' changes (their
failures, an admin's reset, a scheme they learned) show up within that window. Bounded: the
least recently used hosts drop out first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from cachetools import TTLCache

from federation.ports import HostStore
from federation.records import HostHealth

CACHE_SECONDS = 30.0
MAX_HOSTS = 100_000  # a record is a few hundred bytes: tens of MB at most


class HostRecords:
    def __init__(
        self,
        store: HostStore,
        timer: Callable[[], float] = time.monotonic,
        *,
        ttl: float = CACHE_SECONDS,
        max_hosts: int = MAX_HOSTS,
    ) -> None:
        self.store = store
        self._cache: TTLCache[str, HostHealth] = TTLCache(max_hosts, ttl, timer=timer)

    async def get(self, host: str) -> HostHealth:
        """The host's record (an empty one when the store has none); do not mutate it."""
        record = self._cache.get(host)
        if record is None:
            record = await self.store.get_host(host) or HostHealth(host=host)
            self._cache[host] = record
        return record

    def put(self, record: HostHealth) -> None:
        """The record as just written to the store (or returned by it)."""
        self._cache[record.host] = record

    async def set_signature_scheme(self, host: str, scheme: str) -> None:
        await self.store.set_signature_scheme(host, scheme)
        record = self._cache.get(host)
        if record is not None:
            self._cache[host] = replace(record, signature_scheme=scheme)

    def forget(self, host: str) -> None:
        """Drop the cached record: the next get() reads the store."""
        self._cache.pop(host, None)
