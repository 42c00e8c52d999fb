"""Plain records that cross the storage ports. Times are POSIX seconds (float, UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from federation.hosts import Host

# Finished jobs carry the dedupe keys (inbound activity ids, event ids, delivery keys): they
# are kept this long, well past the 24 h in which peers re-send, then deleted (the workers'
# hourly housekeeping; on MongoDB a TTL index too). The one retention figure of the docs.
DONE_JOB_RETENTION = 48 * 3600.0


class Direction(StrEnum):
    FOLLOWING = "following"  # we follow them
    FOLLOWER = "follower"  # they follow us


class FollowState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDONE = "undone"


@dataclass(frozen=True, slots=True, kw_only=True)
class Follow:
    """One follow relation between our instance actor and a remote instance actor."""

    direction: Direction
    actor: str  # the remote actor's URL
    domain: str  # the remote actor's host[:port], lower case
    inbox: str
    shared_inbox: str | None
    state: FollowState
    follow_id: str  # id of the Follow activity (ours for FOLLOWING, theirs for FOLLOWER)
    created_at: float
    updated_at: float


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for next_attempt_at, or leased while lease_until > now
    DONE = "done"
    DEAD = "dead"  # gave up; kept for inspection, can be re-queued


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    """A unit of durable work. dedupe_key is unique across the queue (done jobs included)."""

    kind: str  # a JobKind value; federation.jobs.kinds builds and reads the payload
    dedupe_key: str
    payload: dict[str, Any]
    host: str = ""  # target host for per-host limits and admin views ("" = local work)
    run_at: float = 0.0  # earliest attempt time; 0 = now


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: int | str
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    host: str
    state: JobState
    attempts: int
    next_attempt_at: float
    lease_owner: str | None
    lease_until: float
    last_error: str | None
    created_at: float
    updated_at: float


class CacheState(StrEnum):
    OK = "ok"
    GONE = "gone"  # the origin answered 410, sent a Tombstone, or sent a Delete
    NOT_FOUND = "not_found"  # the origin answered 404: absent or not public (kept briefly)
    FAILED = "failed"  # negative cache entry: fetch failed, do not retry until expires_at


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedObject:
    """A remote block as last seen (or a negative entry for it)."""

    urn: str
    url: str
    domain: str
    state: CacheState
    block: dict[str, Any] | None  # the normalised block (None unless state is OK)
    etag: str | None
    last_modified: str | None
    fetched_at: float
    expires_at: float  # fresh until (OK) / retry not before (FAILED, GONE)
    error: str | None = None
    # The object exactly as its origin signed it (FEP-8b32 proof included), when it carried a
    # proof: what this instance may hand onward as a mirror while the origin is down.
    signed: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorInfo:
    """A remote actor as resolve/ found it, and as follows/ and inbound/ use it."""

    id: str
    host: Host
    inbox: str
    shared_inbox: str | None

    @property
    def domain(self) -> str:
        """The host as stored with a follow."""
        return str(self.host)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteKey:
    key_id: str
    owner: str  # the actor that owns/controls the key
    public_key_pem: str
    fetched_at: float


@dataclass(slots=True, kw_only=True)
class HostHealth:
    """Delivery health of one remote host (circuit breaker and unavailability)."""

    host: str
    consecutive_failures: int = 0
    failure_days: list[str] = field(default_factory=list)  # ISO dates with failed deliveries
    last_failure_at: float = 0.0
    last_success_at: float = 0.0
    circuit_open_until: float = 0.0
    unavailable: bool = False
    signature_scheme: str | None = None  # "cavage" | "rfc9421": what worked last ("double knock")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryCount:
    """Delivery attempts to one host within one minute (`minute`: its first second)."""

    host: str
    minute: int
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HostFailure:
    """One failed delivery and the thresholds it is judged by; the store applies it to the
    host's record in one atomic step (so failures recorded by concurrent workers add up)."""

    at: float
    day: str  # the UTC day of `at`, ISO format
    breaker_threshold: int  # consecutive failures that open the breaker...
    breaker_open_seconds: float  # ...for this long
    unavailable_after_days: int  # distinct failure days (no success between) -> unavailable


@dataclass(frozen=True, slots=True, kw_only=True)
class HostPause:
    """An admin stopped delivery to one host (its stored host key) until resumed: its jobs
    stay queued, unclaimed and uncounted."""

    host: str
    reason: str
    paused_at: float


class Severity(StrEnum):
    """What a domain block does (Mastodon's words; README "Blocklists" has the mapping)."""

    SUSPEND = "suspend"  # no traffic either way: the block as it always was
    SILENCE = "silence"  # federates, limited: follows wait for approval, blocks marked limited
    NOOP = "noop"  # recorded (e.g. from a shared list), nothing enforced


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainBlock:
    domain: str
    reason: str
    created_at: float
    severity: Severity = Severity.SUSPEND
    # Made by an admin (by hand or an import): no subscription ever changes or removes it.
    # False: held only by blocklist subscriptions, removed when the last one retracts it.
    by_admin: bool = True


SEVERITY_RANK = {Severity.NOOP: 0, Severity.SILENCE: 1, Severity.SUSPEND: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionFetch:
    """One scheduled (or requested) fetch of a subscribed blocklist."""

    at: float
    status: str  # applied | not modified | failed | held back
    listed: int = 0  # usable entries in the list fetched
    added: int = 0  # entries this fetch added to the policy
    removed: int = 0  # entries it retracted
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlocklistSubscription:
    """A shared blocklist the gateway follows by URL (GoToSocial's domain permission
    subscriptions). Its entries are held in the policy by it until it retracts them."""

    id: str
    url: str
    title: str
    format: str | None  # csv | plain | json; None: guessed from each fetch
    max_shrink: float  # a list losing more than this fraction of its entries is held back
    created_at: float
    etag: str | None = None
    last_modified: str | None = None
    next_fetch_at: float = 0.0
    listed: int = 0  # entries of the list last applied
    history: tuple[SubscriptionFetch, ...] = ()  # newest last, the last SUBSCRIPTION_HISTORY


SUBSCRIPTION_HISTORY = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Publication:
    """Whether one of our blocks is federated: made public for the `generation`-th time (its
    Create goes out as `{object id}#create-{generation}`), by which job step, and whether it was
    withdrawn since (a Delete went out). Peers drop an activity id they have seen, so a block
    public again after a withdrawal needs the next generation, never the same Create id."""

    block_id: str
    generation: int
    started_by: str  # the job step (its seed) that began this generation
    published_at: float
    withdrawn_at: float | None = None

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None
