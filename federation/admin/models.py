"""Request and response bodies of the admin API (pydantic: they also generate its OpenAPI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from federation.config import FederationMode
from federation.errors import HostError
from federation.hosts import normalise_host
from federation.records import (
    CachedObject,
    DomainBlock,
    Follow,
    FollowState,
    HostHealth,
    Job,
    Severity,
)


def normalise_domain(value: str) -> str:
    """host[:port] in any spelling (``Bücher.example.``) -> its stored one (A-labels, lower
    case, no trailing dot); a ValueError naming the problem, which pydantic reports as a 422."""
    try:
        return normalise_host(value)
    except HostError as exc:
        raise ValueError(f"must be a host name, optionally with :port ({exc})") from None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class FollowRequest(Body):
    target: str = Field(min_length=1, max_length=2048, description="domain, actor URL or acct:")


class ActorRequest(Body):
    actor: str = Field(min_length=1, max_length=2048, description="the remote actor's URL")


class BlockRequest(Body):
    domain: str = Field(min_length=1, max_length=260)
    reason: str = Field("", max_length=2000)
    severity: Severity = Field(
        Severity.SUSPEND,
        description="suspend: no traffic; silence: follows need approval, blocks reach the"
        " backend marked limited; noop: recorded, nothing enforced",
    )

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str) -> str:
        return normalise_domain(v)


class ModeBody(Body):
    mode: FederationMode


class AllowlistBody(Body):
    domains: list[str] = Field(max_length=10_000)

    @field_validator("domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return sorted({normalise_domain(d) for d in v})


class RetryRequest(Body):
    """Re-queue dead deliveries: one job, one host's, or (neither given) all of them."""

    host: str | None = Field(None, min_length=1, max_length=260)
    job_id: str | None = Field(None, min_length=1, max_length=64)

    @field_validator("host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        return None if v is None else normalise_domain(v)


class HostRequest(Body):
    host: str = Field(min_length=1, max_length=260)

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return normalise_domain(v)


class CachePurgeRequest(Body):
    """Exactly one of urn / domain."""

    urn: str | None = Field(None, min_length=1, max_length=4096)
    domain: str | None = Field(None, min_length=1, max_length=260)

    @field_validator("domain")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        return None if v is None else normalise_domain(v)


# --- responses ------------------------------------------------------------------------------


class FollowOut(BaseModel):
    direction: str
    actor: str
    domain: str
    state: FollowState
    inbox: str
    shared_inbox: str | None
    follow_id: str
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, f: Follow) -> FollowOut:
        return cls(
            direction=f.direction.value,
            actor=f.actor,
            domain=f.domain,
            state=f.state,
            inbox=f.inbox,
            shared_inbox=f.shared_inbox,
            follow_id=f.follow_id,
            created_at=f.created_at,
            updated_at=f.updated_at,
        )


class FollowList(BaseModel):
    items: list[FollowOut]


class BackfillProgress(BaseModel):
    actor: str
    host: str
    backfill_jobs: int = Field(description="backfill pages still queued for this follower")
    deliveries_queued: int = Field(description="deliveries queued for the follower's host")


class BlockOut(BaseModel):
    domain: str
    reason: str
    created_at: float
    severity: Severity
    by_admin: bool = Field(
        description="made by an admin (no subscription changes it); false: held by subscriptions"
    )

    @classmethod
    def of(cls, b: DomainBlock) -> BlockOut:
        return cls(
            domain=b.domain,
            reason=b.reason,
            created_at=b.created_at,
            severity=b.severity,
            by_admin=b.by_admin,
        )


class BlockList(BaseModel):
    items: list[BlockOut]


class BlockResult(BaseModel):
    block: BlockOut
    follows_dropped: int
    deliveries_dropped: int
    cache_purged: int


class AllowlistOut(BaseModel):
    domains: list[str]


class QueueCount(BaseModel):
    state: str
    host: str
    count: int


class QueueSummary(BaseModel):
    totals: dict[str, int] = Field(description="jobs per state")
    counts: list[QueueCount]


class JobOut(BaseModel):
    id: str
    kind: str
    host: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: float
    updated_at: float

    @classmethod
    def of(cls, j: Job) -> JobOut:
        return cls(
            id=str(j.id),
            kind=j.kind,
            host=j.host,
            state=j.state.value,
            attempts=j.attempts,
            last_error=j.last_error,
            next_attempt_at=j.next_attempt_at,
            updated_at=j.updated_at,
        )


class JobList(BaseModel):
    items: list[JobOut]


class CountResult(BaseModel):
    count: int


class HostOut(BaseModel):
    host: str
    consecutive_failures: int
    failure_days: list[str]
    last_failure_at: float
    last_success_at: float
    circuit_open_until: float
    unavailable: bool

    @classmethod
    def of(cls, h: HostHealth) -> HostOut:
        return cls(
            host=h.host,
            consecutive_failures=h.consecutive_failures,
            failure_days=list(h.failure_days),
            last_failure_at=h.last_failure_at,
            last_success_at=h.last_success_at,
            circuit_open_until=h.circuit_open_until,
            unavailable=h.unavailable,
        )


class HostList(BaseModel):
    items: list[HostOut]


class CacheEntryOut(BaseModel):
    urn: str
    url: str
    domain: str
    state: str
    block: dict[str, Any] | None
    etag: str | None
    last_modified: str | None
    fetched_at: float
    expires_at: float
    error: str | None

    @classmethod
    def of(cls, c: CachedObject) -> CacheEntryOut:
        return cls(
            urn=c.urn,
            url=c.url,
            domain=c.domain,
            state=c.state.value,
            block=c.block,
            etag=c.etag,
            last_modified=c.last_modified,
            fetched_at=c.fetched_at,
            expires_at=c.expires_at,
            error=c.error,
        )


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    field: str | None = None
