"""Admin use cases: follows, the delivery queue and the resolver cache (moderation: moderation.py).

Thin orchestration over the instance's services and store; the web layer maps the outcomes
to HTTP. Nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from federation.admin.blocklist_import import BlocklistImports
from federation.admin.errors import NotFound
from federation.admin.hosts import HostHealthView, HostReport, MinutePoint
from federation.admin.moderation import Moderation
from federation.admin.pausing import HostPausing
from federation.admin.subscriptions import BlocklistSubscriptions
from federation.config import Settings
from federation.domains import is_domain_blocked
from federation.errors import FederationError, HostError, SelfFollow
from federation.hosts import Host, host_key
from federation.jobs.kinds import BackfillPayload, JobKind, MalformedPayload, decode
from federation.ports import Store
from federation.records import (
    ActorInfo,
    CachedObject,
    Direction,
    Follow,
    FollowState,
    HostHealth,
    Job,
    JobState,
)
from federation.resolve.actors import InvalidActor
from federation.resolve.lookup import classify_target

# Enough to count one follower's backlog without paging (list_jobs has no count query).
_SCAN_LIMIT = 10_000


class TargetNotFound(FederationError):
    """A follow target cannot be discovered (bad syntax, unreachable, not an actor) or may not
    be followed (blocked, or this instance itself)."""


class FollowCommands(Protocol):
    """The follow operations an operator drives (FollowService provides them)."""

    async def follow(self, target: ActorInfo, /) -> Follow: ...

    async def unfollow(self, actor: str, /) -> Follow | None: ...

    async def approve(self, actor: str, /) -> Follow | None: ...

    async def reject(self, actor: str, /) -> Follow | None: ...

    async def remove_follower(self, actor: str, /) -> bool: ...


class ActorFinder(Protocol):
    """A remote actor from a URL, acct: or domain (ActorLookup provides it)."""

    async def find(self, target: str, /) -> ActorInfo: ...


class HostResets(Protocol):
    """Forgetting a host's failures (HostHealthTracker provides it)."""

    async def reset(self, host: str, /) -> HostHealth | None: ...


@dataclass(eq=False, kw_only=True)
class AdminService:
    """The operator's use cases: follows, the delivery queue and the resolver cache here; the
    other concerns in their own objects, built once by the composition root."""

    settings: Settings
    store: Store
    follows: FollowCommands
    lookup: ActorFinder
    health: HostResets
    wake: Callable[[], None]
    clock: Callable[[], float]
    moderation: Moderation
    pauses: HostPausing
    blocklists: BlocklistImports
    subscriptions: BlocklistSubscriptions

    # --- follows ----------------------------------------------------------------------------

    async def follow(self, target: str) -> Follow:
        try:
            host = _target_host(target)
            if host == Host.parse(self.settings.domain, self.settings.scheme):  # no request
                raise SelfFollow(str(host))
            await self._refuse_blocked(host)  # no traffic to a blocked domain
            actor = await self.lookup.find(target)
            await self._refuse_blocked(actor.host)
            return await self.follows.follow(actor)  # SelfFollow when it named our actor
        except (InvalidActor, SelfFollow) as exc:
            raise TargetNotFound(str(exc)) from None

    async def _refuse_blocked(self, host: Host) -> None:
        if await is_domain_blocked(self.store, host):
            raise TargetNotFound(f"{host} is blocked; unblock it first")

    async def unfollow(self, actor: str) -> Follow:
        return _found(await self.follows.unfollow(actor), "not following", actor)

    async def list_follows(self, direction: Direction, state: FollowState | None) -> list[Follow]:
        return await self.store.list_follows(direction, state)

    async def approve(self, actor: str) -> Follow:
        return _found(await self.follows.approve(actor), "no follower", actor)

    async def reject(self, actor: str) -> Follow:
        return _found(await self.follows.reject(actor), "no follower", actor)

    async def remove_follower(self, actor: str) -> Follow:
        if not await self.follows.remove_follower(actor):
            raise NotFound(f"no follower {actor}")
        return await self._follower(actor)

    async def backfill_progress(self, actor: str) -> tuple[str, int, int]:
        """(follower's inbox host, backfill pages queued, deliveries queued for that host)."""
        host = host_key((await self._follower(actor)).inbox)
        queued = await self.store.list_jobs(JobState.QUEUED, None, _SCAN_LIMIT)
        pages = sum(1 for j in queued if _backfills(j, actor))
        deliveries = sum(1 for j in queued if j.kind == JobKind.DELIVER and j.host == host)
        return host, pages, deliveries

    async def _follower(self, actor: str) -> Follow:
        return _found(await self.store.get_follow(Direction.FOLLOWER, actor), "no follower", actor)

    # --- delivery queue ---------------------------------------------------------------------

    async def retry_dead(self, job_id: str | None, host: str | None) -> int:
        ident = _job_ident(job_id)
        return self._woken(await self.store.requeue_dead(self.clock(), job_id=ident, host=host))

    async def queue_counts(self) -> dict[tuple[str, str], int]:
        return await self.store.counts()

    async def dead_jobs(self, host: str | None) -> list[Job]:
        return await self.store.list_jobs(JobState.DEAD, host)

    async def queued_jobs(self, host: str, state: JobState) -> list[Job]:
        """A host's waiting (or dead) jobs with their next attempt and last error."""
        return await self.store.list_jobs(state, host)

    async def retry_now(self, host: str, job_id: str | None) -> int:
        """Make a host's waiting jobs (or one) due now; their attempts are kept."""
        ident = _job_ident(job_id)
        return self._woken(await self.store.retry_queued_now(self.clock(), host, ident))

    def _woken(self, count: int) -> int:
        """Wake the runner when `count` jobs became due, so they go now, not at its next poll."""
        if count:
            self.wake()
        return count

    async def host_reports(self, host: str | None) -> list[HostReport]:
        return await HostHealthView(self.store, self.clock).report(host)

    async def delivery_minutes(self) -> list[MinutePoint]:
        return await HostHealthView(self.store, self.clock).minutes()

    async def unavailable_hosts(self) -> list[HostHealth]:
        return await self.store.list_hosts(unavailable_only=True)

    async def reset_host(self, host: str) -> HostHealth:
        """Make a host available again; keep what we learned about its signature scheme."""
        reset = await self.health.reset(host)
        if reset is None:
            raise NotFound(f"no delivery record for {host}")
        return reset

    # --- resolver cache ---------------------------------------------------------------------

    async def cached(self, urn: str) -> CachedObject:
        entry = await self.store.get_cached(urn)
        if entry is None:
            raise NotFound(f"nothing cached for {urn}")
        return entry

    async def purge_cache(self, urn: str | None, domain: str | None) -> int:
        if urn is not None:
            return int(await self.store.delete_cached(urn))
        return await self.store.purge_cached_domain(domain or "")


def _target_host(target: str) -> Host:
    kind, value = classify_target(target)
    try:
        if kind == "url":
            return Host.of_url(value)
        return Host.parse(value.rsplit("@", 1)[-1])
    except HostError as exc:
        raise TargetNotFound(str(exc)) from None


def _job_ident(job_id: str | None) -> int | str | None:
    """The store's id of the job the API names: SQLite's are integers, other stores' strings."""
    if job_id is not None and job_id.isdigit():
        return int(job_id)
    return job_id


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
