"""What services need from storage, as small role-specific protocols.

Every adapter in federation/storage/ implements all of them, and the job queue's ports of
federation/job_ports.py (`Store` gathers both); tests/contract/ holds one suite that runs
unchanged against each adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from federation.job_ports import JobAdmin, JobQueue, Liveness
from federation.records import (
    BlocklistSubscription,
    CachedObject,
    DeliveryCount,
    Direction,
    DomainBlock,
    Follow,
    FollowState,
    HostFailure,
    HostHealth,
    HostPause,
    Publication,
    RemoteKey,
    SubscriptionFetch,
)


class FollowStore(Protocol):
    async def put_follow(self, follow: Follow) -> None:
        """Insert or replace the relation keyed by (direction, actor)."""

    async def get_follow(self, direction: Direction, actor: str) -> Follow | None: ...

    async def list_follows(
        self, direction: Direction, state: FollowState | None = None
    ) -> list[Follow]: ...

    async def set_follow_state(
        self, direction: Direction, actor: str, state: FollowState, now: float
    ) -> bool:
        """Change the state; False when there is no such relation."""

    async def delete_follow(self, direction: Direction, actor: str) -> bool:
        """Forget the relation; False when there is none."""

    async def delivery_inboxes(self) -> list[tuple[str, str]]:
        """(inbox URL, host) of accepted followers, a shared inbox standing for all the
        followers that offer it, each inbox once."""


class ObjectCache(Protocol):
    async def get_cached(self, urn: str) -> CachedObject | None: ...

    async def put_cached(self, obj: CachedObject) -> None:
        """Insert or replace by urn."""

    async def delete_cached(self, urn: str) -> bool: ...

    async def purge_cached_domain(self, domain: str) -> int: ...


class ActivityLog(Protocol):
    """Our own outgoing activities, stored once and referenced by delivery jobs."""

    async def put_activity(self, activity_id: str, body: bytes, now: float) -> None: ...

    async def get_activity(self, activity_id: str) -> bytes | None: ...


class Publications(Protocol):
    """Which of our blocks are federated (delivery/outbound.py writes it, the outbox reads it)."""

    async def publish_block(self, block_id: str, started_by: str, now: float) -> Publication:
        """The block is public: kept as it is when published already; otherwise the next
        generation (1 the first time), begun by `started_by` at `now`. Atomic: of two callers
        at once, one begins the generation and both get that record."""

    async def withdraw_block(self, block_id: str, now: float) -> bool:
        """The block left (private, embargoed, deleted): mark it withdrawn. True when it was
        ever published (also when withdrawn already: a retried job sends its Delete again)."""

    async def publications(self, block_ids: Sequence[str]) -> dict[str, Publication]:
        """The records of those blocks that have one, by block id."""


class KeyCache(Protocol):
    async def get_key(self, key_id: str) -> RemoteKey | None: ...

    async def put_key(self, key: RemoteKey) -> None: ...


class HostStore(Protocol):
    """Per-host delivery health. Every write changes only its own fields, atomically, and
    creates the record when missing: several workers (processes) update one host at once, and
    none may undo another's counters or learned signature scheme."""

    async def get_host(self, host: str) -> HostHealth | None: ...

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]: ...

    async def record_failure(self, host: str, failure: HostFailure) -> HostHealth:
        """Count one failure: consecutive_failures + 1, last_failure_at, the day added to
        failure_days (the newest `unavailable_after_days` kept); open the breaker at the
        threshold and mark the host unavailable after enough days. Returns the record after."""

    async def record_success(self, host: str, at: float) -> None:
        """A success: failures forgotten, breaker closed, available, last_success_at = at."""

    async def set_signature_scheme(self, host: str, scheme: str) -> None: ...

    async def reset_host(self, host: str) -> HostHealth | None:
        """An admin's reset: failures forgotten, breaker closed, available; the learned
        signature scheme and the times stay. None (and nothing written) when there is no
        record."""


class HostPauses(Protocol):
    """Hosts an admin paused delivery to (by stored host key, exact: no subdomains)."""

    async def pause_host(self, pause: HostPause) -> bool:
        """Pause the host; False (and the first pause kept as it was) when already paused."""

    async def resume_host(self, host: str) -> bool:
        """Lift the pause; False when the host was not paused."""

    async def paused_hosts(self) -> list[HostPause]:
        """Every pause, ordered by host."""


class DeliveryStats(Protocol):
    """Per-host, per-minute counts of delivery attempts, for the admin's health views. Finished
    jobs are pruned after two days; these counters are small and kept for a week or more."""

    async def add_delivery_counts(self, counts: Sequence[DeliveryCount]) -> None:
        """Add each count to its (host, minute) counter, creating it as needed, in one write."""

    async def delivery_counts(self, since: float, host: str | None = None) -> list[DeliveryCount]:
        """Counters of minutes starting at or after `since` (one host's, or all), ordered by
        minute then host."""

    async def prune_delivery_counts(self, older_than: float) -> int:
        """Delete counters of minutes before `older_than`; returns how many."""

    async def oldest_deliveries(self) -> dict[str, float]:
        """host -> when its oldest delivery job still owed (queued: due, waiting for a retry,
        or leased) was created; hosts with none are absent. How far behind each host is."""


class PolicyStore(Protocol):
    async def add_block(self, block: DomainBlock) -> None:
        """Insert or replace the entry keyed by domain (any severity)."""

    async def remove_block(self, domain: str) -> bool: ...

    async def apply_blocks(self, put: Sequence[DomainBlock], remove: Sequence[str]) -> None:
        """Insert or replace `put` and delete `remove` together: SQLite in one transaction;
        MongoDB in one ordered bulk write, the policy version moved once, after it."""

    async def list_blocks(self) -> list[DomainBlock]:
        """Every entry, whatever its severity, ordered by domain."""

    async def is_blocked(self, domain: str) -> bool:
        """Whether a suspend entry names exactly `domain` (silence and noop do not block)."""

    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str) -> None: ...

    async def policy_version(self) -> int:
        """A number that changes with every write of blocks or settings, by any process sharing
        the store, and is written no earlier than the data it announces: a reader that sees a
        new version and then reads the policy reads that write (federation.domains caches the
        policy by it)."""


class SubscriptionStore(Protocol):
    """Blocklist subscriptions and the entries each one holds in the domain policy."""

    async def add_subscription(self, subscription: BlocklistSubscription) -> bool:
        """False (nothing written) when one with that URL exists already."""

    async def list_subscriptions(self) -> list[BlocklistSubscription]:
        """Ordered by creation."""

    async def get_subscription(self, subscription_id: str) -> BlocklistSubscription | None: ...

    async def claim_subscription(self, subscription_id: str, now: float, until: float) -> bool:
        """If its next fetch is due at `now`, move it to `until` and answer True: of several
        processes asking at once, exactly one is told to fetch."""

    async def record_fetch(
        self,
        subscription_id: str,
        fetch: SubscriptionFetch,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        listed: int | None = None,
    ) -> None:
        """Append to its history (the newest SUBSCRIPTION_HISTORY kept); an applied list
        also sets its validators and entry count."""

    async def apply_subscription(
        self, subscription_id: str, entries: Sequence[DomainBlock]
    ) -> tuple[list[str], list[str]]:
        """Make `entries` exactly what the subscription holds, in one transaction: a domain
        no entry blocks yet is added (by_admin False); an entry only subscriptions hold takes
        the strictest severity they give; one an admin made is never changed; one that loses
        its last holder and is not an admin's is removed. Returns (added, removed) domains."""

    async def remove_subscription(self, subscription_id: str) -> list[str] | None:
        """Forget it and retract everything it holds (as apply_subscription with no
        entries); the domains removed, or None when there is no such subscription."""


class Publishing(Protocol):
    """What services that send activities need (delivery.Publisher provides it): follows/
    and others send through this, not through delivery/ itself."""

    async def send_to(self, activity: dict[str, Any], inbox: str, *, run_at: float = ...) -> int:
        """Deliver one activity to one inbox."""

    async def publish(self, activity: dict[str, Any], *, event_at: float | None = None) -> int:
        """Deliver one activity to every accepted follower (`event_at`: when the block event
        it answers was reported, carried to each delivery to measure the lag)."""

    def wake(self) -> None:
        """Tell the job runner that new work is queued."""


class Store(
    FollowStore,
    JobQueue,
    JobAdmin,
    Liveness,
    ObjectCache,
    ActivityLog,
    Publications,
    KeyCache,
    HostStore,
    HostPauses,
    DeliveryStats,
    PolicyStore,
    SubscriptionStore,
    Protocol,
):
    """Everything one adapter provides."""

    async def open(self) -> None:
        """Connect, create the schema/indexes, run migrations."""

    async def close(self) -> None: ...
