"""Admin use cases: follows, moderation, the delivery queue and the resolver cache.

Thin orchestration over the instance's services and store; the web layer maps the outcomes
to HTTP. Nothing here knows about HTTP.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from federation.admin.blocklist_import import BlocklistImports
from federation.admin.hosts import HostHealthView, HostReport, MinutePoint
from federation.admin.pausing import HostPausing
from federation.admin.subscriptions import BlocklistSubscriptions
from federation.config import FederationMode, Settings
from federation.domains import current_allowlist, current_mode, is_domain_blocked
from federation.errors import FederationError, HostError, SelfFollow
from federation.hosts import Host, host_key
from federation.jobs.kinds import BackfillPayload, JobKind, MalformedPayload, decode
from federation.outcomes import Fetcher
from federation.ports import Store
from federation.records import (
    ActorInfo,
    CachedObject,
    Direction,
    DomainBlock,
    Follow,
    FollowState,
    HostHealth,
    Job,
    JobState,
    Severity,
)
from federation.resolve.actors import InvalidActor
from federation.resolve.lookup import classify_target

log = logging.getLogger("federation.admin")

# Enough to count one follower's backlog without paging (list_jobs has no count query).
_SCAN_LIMIT = 10_000


class NotFound(FederationError):
    """The thing the admin named does not exist."""


class TargetNotFound(FederationError):
    """A follow target cannot be discovered (bad syntax, unreachable, not an actor) or may not
    be followed (blocked, or this instance itself)."""


@dataclass(frozen=True)
class BlockOutcome:
    block: DomainBlock
    follows_dropped: int
    deliveries_dropped: int
    cache_purged: int


class FollowCommands(Protocol):
    """The follow operations an operator drives (FollowService provides them)."""

    async def follow(self, target: ActorInfo, /) -> Follow: ...

    async def unfollow(self, actor: str, /) -> Follow | None: ...

    async def approve(self, actor: str, /) -> Follow | None: ...

    async def reject(self, actor: str, /) -> Follow | None: ...

    async def remove_follower(self, actor: str, /) -> bool: ...

    async def domain_blocked(self, domain: str, /) -> int: ...


class ActorFinder(Protocol):
    """A remote actor from a URL, acct: or domain (ActorLookup provides it)."""

    async def find(self, target: str, /) -> ActorInfo: ...


class HostResets(Protocol):
    """Forgetting a host's failures (HostHealthTracker provides it)."""

    async def reset(self, host: str, /) -> HostHealth | None: ...


class AdminService:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        follows: FollowCommands,
        lookup: ActorFinder,
        health: HostResets,
        wake: Callable[[], None],
        clock: Callable[[], float],
        fetcher: Fetcher,
    ) -> None:
        self._settings = settings
        self._store = store
        self._follows = follows
        self._lookup = lookup
        self._health = health
        self._wake = wake
        self._clock = clock
        self.pauses = HostPausing(store, store, wake, clock)
        self.blocklists = BlocklistImports(store, self.cut_ties, clock)
        self.subscriptions = BlocklistSubscriptions(
            store=store, fetcher=fetcher, settings=settings, cut_ties=self.cut_ties, clock=clock
        )

    # --- follows ----------------------------------------------------------------------------

    async def follow(self, target: str) -> Follow:
        try:
            host = _target_host(target)
            if host == Host.parse(self._settings.domain, self._settings.scheme):  # no request
                raise SelfFollow(str(host))
            await self._refuse_blocked(host)  # no traffic to a blocked domain
            actor = await self._lookup.find(target)
            await self._refuse_blocked(actor.host)
            return await self._follows.follow(actor)  # SelfFollow when it named our actor
        except (InvalidActor, SelfFollow) as exc:
            raise TargetNotFound(str(exc)) from None

    async def _refuse_blocked(self, host: Host) -> None:
        if await is_domain_blocked(self._store, host):
            raise TargetNotFound(f"{host} is blocked; unblock it first")

    async def unfollow(self, actor: str) -> Follow:
        return _found(await self._follows.unfollow(actor), "not following", actor)

    async def list_follows(self, direction: Direction, state: FollowState | None) -> list[Follow]:
        return await self._store.list_follows(direction, state)

    async def approve(self, actor: str) -> Follow:
        return _found(await self._follows.approve(actor), "no follower", actor)

    async def reject(self, actor: str) -> Follow:
        return _found(await self._follows.reject(actor), "no follower", actor)

    async def remove_follower(self, actor: str) -> Follow:
        if not await self._follows.remove_follower(actor):
            raise NotFound(f"no follower {actor}")
        return _found(await self._store.get_follow(Direction.FOLLOWER, actor), "no follower", actor)

    async def backfill_progress(self, actor: str) -> tuple[str, int, int]:
        """(follower's inbox host, backfill pages queued, deliveries queued for that host)."""
        follow = _found(
            await self._store.get_follow(Direction.FOLLOWER, actor), "no follower", actor
        )
        host = host_key(follow.inbox)
        queued = await self._store.list_jobs(JobState.QUEUED, None, _SCAN_LIMIT)
        pages = sum(1 for j in queued if _backfills(j, actor))
        deliveries = sum(1 for j in queued if j.kind == JobKind.DELIVER and j.host == host)
        return host, pages, deliveries

    # --- moderation -------------------------------------------------------------------------

    async def block(
        self, domain: str, reason: str, severity: Severity = Severity.SUSPEND
    ) -> BlockOutcome:
        """Record a domain block; a suspension also cuts every tie (cut_ties)."""
        block = DomainBlock(
            domain=domain, reason=reason, created_at=self._clock(), severity=severity
        )
        await self._store.add_block(block)
        if severity is not Severity.SUSPEND:
            return BlockOutcome(block, 0, 0, 0)
        return replace(await self.cut_ties(domain), block=block)

    async def cut_ties(self, domain: str) -> BlockOutcome:
        """What a suspension does: follows both ways, queued work and cached objects of
        `domain` (and its subdomains) dropped."""
        block = DomainBlock(domain=domain, reason="", created_at=self._clock())
        now = self._clock()
        follows = await self._follows.domain_blocked(domain)  # each one reported
        deliveries = 0
        for host in await self._known_hosts(domain):
            deliveries += await self._store.drop_queued_for_host(host, now)
        purged = await self._store.purge_cached_domain(domain)
        log.info(
            "blocked %s: %d follows, %d deliveries, %d cached objects dropped",
            domain,
            follows,
            deliveries,
            purged,
        )
        return BlockOutcome(block, follows, deliveries, purged)

    async def _known_hosts(self, domain: str) -> set[str]:
        hosts = {host for _, host in await self._store.counts()}
        hosts |= {h.host for h in await self._store.list_hosts()}
        return _covered(domain, hosts)

    async def unblock(self, domain: str) -> None:
        if not await self._store.remove_block(domain):
            raise NotFound(f"{domain} is not blocked")

    async def list_blocks(self) -> list[DomainBlock]:
        return await self._store.list_blocks()

    async def get_mode(self) -> FederationMode:
        return await current_mode(self._store, self._settings)

    async def set_mode(self, mode: FederationMode) -> None:
        await self._store.set_setting("mode", mode.value)

    async def get_allowlist(self) -> list[str]:
        return await current_allowlist(self._store, self._settings)

    async def set_allowlist(self, domains: list[str]) -> None:
        await self._store.set_setting("allowlist", json.dumps(domains))

    # --- delivery queue ---------------------------------------------------------------------

    async def retry_dead(self, job_id: str | None, host: str | None) -> int:
        ident: int | str | None = job_id
        if job_id is not None and job_id.isdigit():
            ident = int(job_id)  # SQLite ids are integers; other stores use strings
        count = await self._store.requeue_dead(self._clock(), job_id=ident, host=host)
        if count:
            self._wake()
        return count

    async def queue_counts(self) -> dict[tuple[str, str], int]:
        return await self._store.counts()

    async def dead_jobs(self, host: str | None) -> list[Job]:
        return await self._store.list_jobs(JobState.DEAD, host)

    async def queued_jobs(self, host: str, state: JobState) -> list[Job]:
        """A host's waiting (or dead) jobs with their next attempt and last error."""
        return await self._store.list_jobs(state, host)

    async def retry_now(self, host: str, job_id: str | None) -> int:
        """Make a host's waiting jobs (or one) due now; their attempts are kept."""
        ident: int | str | None = job_id
        if job_id is not None and job_id.isdigit():
            ident = int(job_id)
        count = await self._store.retry_queued_now(self._clock(), host, ident)
        if count:
            self._wake()
        return count

    async def host_reports(self, host: str | None) -> list[HostReport]:
        return await HostHealthView(self._store, self._clock).report(host)

    async def delivery_minutes(self) -> list[MinutePoint]:
        return await HostHealthView(self._store, self._clock).minutes()

    async def unavailable_hosts(self) -> list[HostHealth]:
        return await self._store.list_hosts(unavailable_only=True)

    async def reset_host(self, host: str) -> HostHealth:
        """Make a host available again; keep what we learned about its signature scheme."""
        reset = await self._health.reset(host)
        if reset is None:
            raise NotFound(f"no delivery record for {host}")
        return reset

    # --- resolver cache ---------------------------------------------------------------------

    async def cached(self, urn: str) -> CachedObject:
        entry = await self._store.get_cached(urn)
        if entry is None:
            raise NotFound(f"nothing cached for {urn}")
        return entry

    async def purge_cache(self, urn: str | None, domain: str | None) -> int:
        if urn is not None:
            return int(await self._store.delete_cached(urn))
        return await self._store.purge_cached_domain(domain or "")


def _target_host(target: str) -> Host:
    kind, value = classify_target(target)
    try:
        if kind == "url":
            return Host.of_url(value)
        return Host.parse(value.rsplit("@", 1)[-1])
    except HostError as exc:
        raise TargetNotFound(str(exc)) from None


def _covered(domain: str, hosts: set[str]) -> set[str]:
    """The stored host keys among `hosts` that the block on `domain` covers."""
    entry = Host.parse(domain)
    covered = set()
    for text in hosts:
        try:
            if text and entry.covers(Host.parse(text)):
                covered.add(text)
        except HostError:
            continue  # a key no host has: nothing to cover
    return covered


def _found(follow: Follow | None, what: str, actor: str) -> Follow:
    if follow is None:
        raise NotFound(f"{what} {actor}")
    return follow


def _backfills(job: Job, actor: str) -> bool:
    """Whether `job` is a backfill page for `actor` (a damaged one counts for nobody)."""
    if job.kind != JobKind.BACKFILL:
        return False
    try:
        payload = decode(job)
    except MalformedPayload:
        return False
    return isinstance(payload, BackfillPayload) and payload.actor == actor
