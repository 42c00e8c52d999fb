"""Request and response bodies of the admin API (pydantic: they also generate its OpenAPI)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from federation.config import FederationMode
from federation.errors import HostError
from federation.hosts import normalise_host
from federation.records import FollowState, Severity


def normalise_domain(value: str) -> str:
    """host[:port] in any spelling (``Bücher.example.``) -> its stored one (A-labels, lower
    case, no trailing dot); a ValueError naming the problem, which pydantic reports as a 422."""
    try:
        return normalise_host(value)
    except HostError as exc:
        raise ValueError(f"must be a host name, optionally with :port ({exc})") from None


# A host name field of a request: checked, then held in its stored spelling.
Domain = Annotated[str, Field(min_length=1, max_length=260), AfterValidator(normalise_domain)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body read off a record: each field is the record's attribute of its name."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: object) -> Self:
        return cls.model_validate(record)


# --- requests -------------------------------------------------------------------------------


class FollowRequest(Body):
    target: str = Field(min_length=1, max_length=2048, description="domain, actor URL or acct:")


class ActorRequest(Body):
    actor: str = Field(min_length=1, max_length=2048, description="the remote actor's URL")


class BlockRequest(Body):
    domain: Domain
    reason: str = Field("", max_length=2000)
    severity: Severity = Field(
        Severity.SUSPEND,
        description="suspend: no traffic; silence: follows need approval, blocks reach the"
        " backend marked limited; noop: recorded, nothing enforced",
    )


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

    host: Domain | None = None
    job_id: str | None = Field(None, min_length=1, max_length=64)


class HostRequest(Body):
    host: Domain


class CachePurgeRequest(Body):
    """Exactly one of urn / domain."""

    urn: str | None = Field(None, min_length=1, max_length=4096)
    domain: Domain | None = None


# --- responses ------------------------------------------------------------------------------


class FollowOut(Out):
    direction: str
    actor: str
    domain: str
    state: FollowState
    inbox: str
    shared_inbox: str | None
    follow_id: str
    created_at: float
    updated_at: float


class FollowList(BaseModel):
    items: list[FollowOut]


class BackfillProgress(BaseModel):
    actor: str
    host: str
    backfill_jobs: int = Field(description="backfill pages still queued for this follower")
    deliveries_queued: int = Field(description="deliveries queued for the follower's host")


class BlockOut(Out):
    domain: str
    reason: str
    created_at: float
    severity: Severity
    by_admin: bool = Field(
        description="made by an admin (no subscription changes it); false: held by subscriptions"
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


class JobOut(Out):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # SQLite's job ids are integers

    id: str
    kind: str
    host: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: float
    updated_at: float


class JobList(BaseModel):
    items: list[JobOut]


class CountResult(BaseModel):
    count: int


class HostOut(Out):
    host: str
    consecutive_failures: int
    failure_days: list[str]
    last_failure_at: float
    last_success_at: float
    circuit_open_until: float
    unavailable: bool


class HostList(BaseModel):
    items: list[HostOut]


class CacheEntryOut(Out):
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


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    field: str | None = None
