"""URN -> block: cache with a freshness window, local shortcut, single-flight, negative cache.

A remote block is fetched (signed GET) only when the cache has nothing fresh, and accepted only
as federation.resolve.validation allows. Failures are cached for `negative_seconds` so a dead
or hostile peer is not hammered by every reference to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from federation.backend.contract import BlockSource
from federation.config import Settings
from federation.errors import BackendError
from federation.hosts import Host
from federation.observability.setup import Telemetry
from federation.outcomes import Fetcher, FetchError, FetchErrorKind, FetchResult
from federation.proofs import ProofError
from federation.records import CachedObject, CacheState
from federation.resolve.cache import RemoteCache
from federation.resolve.mirrors import BlockedHosts, MirrorCopy
from federation.resolve.proofcheck import ProofVerifier
from federation.resolve.results import ResolveResult, Status, cache_entry_for, result_of
from federation.resolve.validation import Deleted, Refused, is_transient, validated
from federation.urn import BlockUrn
from federation.visibility import is_released

__all__ = ["BATCH_CONCURRENCY", "ResolveResult", "Resolver", "Status", "cache_entry_for"]

BATCH_CONCURRENCY = 32


class Mirrors(Protocol):
    async def ask(self, urn: BlockUrn, /) -> MirrorCopy | None:
        """A followed instance's origin-signed copy (mirrors.MirrorService provides it)."""


@dataclass(eq=False, repr=False, kw_only=True)
class Resolver:
    cache: RemoteCache
    policy: BlockedHosts
    transport: Fetcher
    backend: BlockSource
    settings: Settings
    clock: Callable[[], float]
    telemetry: Telemetry = field(default_factory=Telemetry)
    mirrors: Mirrors | None = None
    proofs: ProofVerifier | None = None

    def __post_init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[ResolveResult]] = {}
        self._peer_scheme = self.settings.peer_scheme

    async def resolve(self, urn: str) -> ResolveResult:
        """Resolve one URN. Raises UrnError (a ValueError) when `urn` is malformed."""
        parsed = BlockUrn.parse(urn)
        if parsed.authority == self.settings.domain:
            return await self._resolve_local(parsed)
        key = str(parsed)
        if key not in self._inflight:
            # The common case, a fresh cache hit, is answered inline: no task, no shield.
            hit = await self._fresh_hit(parsed)
            if hit is not None:
                self.telemetry.metrics.resolver_cache(hit=True)
                return hit
        # Looked up again after the await above: another caller may have started the fetch.
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._resolve_remote(parsed))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        # shield: one caller giving up must not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    async def resolve_many(self, urns: Sequence[str]) -> list[ResolveResult]:
        """Resolve concurrently (bounded), each distinct URN once, answers in input order.
        Raises UrnError naming the first malformed URN before anything is fetched."""
        canonical = [str(BlockUrn.parse(u)) for u in urns]
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def one(urn: str) -> ResolveResult:
            async with gate:
                return await self.resolve(urn)

        unique = list(dict.fromkeys(canonical))
        answers = await asyncio.gather(*(one(u) for u in unique))
        by_urn = dict(zip(unique, answers, strict=True))
        return [by_urn[u] for u in canonical]

    async def _resolve_local(self, urn: BlockUrn) -> ResolveResult:
        try:
            block = await self.backend.get_block(urn.local_id)
        except BackendError:
            return ResolveResult(str(urn), "error", None, "local backend unavailable", False)
        # Unreleased blocks look exactly like missing ones: existence must not leak.
        if block is None or not is_released(block, self.clock()):
            return ResolveResult(str(urn), "not_found", None, None, False)
        remote = block.to_remote(urn.authority, urn.to_url(self.settings.scheme))
        return ResolveResult(str(urn), "ok", remote.model_dump(mode="json"), None, False)

    async def _fresh_hit(self, urn: BlockUrn) -> ResolveResult | None:
        return (await self._lookup(urn))[0]

    async def _lookup(self, urn: BlockUrn) -> tuple[ResolveResult | None, CachedObject | None]:
        """(the answer, when it needs no fetch: a blocked domain or a fresh entry; the entry)."""
        # Checked before the cache: a block must also hide what was cached before it.
        if await self.policy.is_blocked(Host.parse(urn.authority)):
            return ResolveResult(str(urn), "error", None, "domain blocked", False), None
        entry = await self.cache.get(str(urn))
        if entry is not None and self.clock() < entry.expires_at:
            return result_of(entry, cached=True), entry
        return None, entry

    async def _resolve_remote(self, urn: BlockUrn) -> ResolveResult:
        hit, entry = await self._lookup(urn)
        if hit is not None:  # another caller's fetch may have filled the cache meanwhile
            return hit
        self.telemetry.metrics.resolver_cache(hit=False)
        started = time.perf_counter()
        with self.telemetry.tracer.start_as_current_span("resolve"):
            if entry is not None and entry.state is CacheState.OK:
                result = await self._revalidate(urn, entry)
            else:
                result = await self._fetch(urn)
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self.telemetry.metrics.resolver_fetched(result.status, elapsed_ms)
        return result

    async def _fetch(self, urn: BlockUrn) -> ResolveResult:
        url = urn.to_url(self._peer_scheme)
        try:
            fetched = await self.transport.fetch(url)
            return await self._accept(urn, fetched)
        except FetchError as exc:
            if is_transient(exc):
                copy = await self._from_mirror(urn)
                if copy is not None:
                    return copy
            return await self._fetch_failed(urn, exc)
        except Refused as exc:
            return await self._remember_failure(urn, exc.reason)

    async def _from_mirror(self, urn: BlockUrn) -> ResolveResult | None:
        """Origin down and nothing cached: a followed instance's origin-signed copy. Not cached
        here, so the origin is asked again as soon as the negative entry would have expired."""
        if self.mirrors is None:
            return None
        copy = await self.mirrors.ask(urn)
        if copy is None:
            return None
        block = copy.block.model_dump(mode="json")
        return ResolveResult(str(urn), "ok", block, None, False, copy.mirror, copy.age_seconds)

    async def _revalidate(self, urn: BlockUrn, entry: CachedObject) -> ResolveResult:
        """Refresh a stale copy: conditional when we hold validators; an unreachable peer
        gets the stale copy served rather than a good block forgotten."""
        url = urn.to_url(self._peer_scheme)
        try:
            fetched = await self.transport.fetch(
                url, etag=entry.etag, last_modified=entry.last_modified
            )
            if fetched.status != 304 or not (entry.etag or entry.last_modified):
                return await self._accept(urn, fetched)
        except FetchError as exc:
            if is_transient(exc):
                return await self._serve_stale(entry)
            return await self._fetch_failed(urn, exc)
        except Refused as exc:
            return await self._remember_failure(urn, exc.reason)
        return result_of(await self.cache.renew(entry), cached=True)

    async def _serve_stale(self, entry: CachedObject) -> ResolveResult:
        """Peer unreachable: keep the last good copy, and wait before asking again."""
        await self.cache.hold_stale(entry)
        return result_of(entry, cached=True)

    async def _accept(self, urn: BlockUrn, fetched: FetchResult) -> ResolveResult:
        try:
            block, obj = validated(urn, fetched, self.settings.limits.max_json_depth)
        except Deleted:
            return result_of(await self.cache.put_gone(urn), cached=False)
        entry = await self.cache.put_block(
            block,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            signed=await self._origin_signed(obj),
        )
        return result_of(entry, cached=False)

    async def _origin_signed(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The fetched object when it carries a proof that holds (kept, to hand onward as a
        mirror); a proof that fails refuses the object."""
        if self.proofs is None or "proof" not in obj:
            return None
        try:
            proved = await self.proofs.verify(obj, str(obj.get("attributedTo")))
        except ProofError as exc:
            raise Refused(f"proof rejected: {exc.reason.value}: {exc.detail}") from None
        return obj if proved else None

    async def _fetch_failed(self, urn: BlockUrn, exc: FetchError) -> ResolveResult:
        if exc.kind is FetchErrorKind.GONE:
            # 410 is a deletion, and final.
            return result_of(await self.cache.put_gone(urn), cached=False)
        if exc.kind is FetchErrorKind.NOT_FOUND:
            # 404 is also what a private or still-embargoed block answers (so that its
            # existence does not leak): not_found, remembered only briefly.
            entry = await self.cache.put_missing(urn, CacheState.NOT_FOUND, None)
            return result_of(entry, cached=False)
        return await self._remember_failure(urn, f"{exc.kind.value}: {exc.reason}")

    async def _remember_failure(self, urn: BlockUrn, reason: str) -> ResolveResult:
        entry = await self.cache.put_missing(urn, CacheState.FAILED, reason)
        return result_of(entry, cached=False)
