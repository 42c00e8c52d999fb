"""Bodies of the host-health, queue-control and chart endpoints (pydantic: also their OpenAPI)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from federation.admin.hosts import MinutePoint
from federation.admin.models import Body, Domain, Out


class RetryNowRequest(Body):
    """Make a host's waiting deliveries (or one of them) due now."""

    host: Domain
    job_id: str | None = Field(None, min_length=1, max_length=64)


class HostReportOut(Out):
    host: str
    followers: int = Field(description="accepted followers on this host")
    following: int = Field(description="accepted follows of ours to this host")
    delivered_24h: int
    failed_24h: int = Field(description="delivery attempts that did not deliver")
    delivered_7d: int
    failed_7d: int
    hourly: list[tuple[int, int]] = Field(
        description="(delivered, failed) per hour over the last 24 h, oldest first"
    )
    last_success_at: float | None
    last_failure_at: float | None
    last_error: str | None = Field(description="the newest error among its queued/dead jobs")
    consecutive_failures: int
    breaker: str = Field(description="closed, open or half-open")
    unavailable: bool
    unavailable_since: str | None = Field(description="UTC day it was marked unavailable")
    signature_scheme: str | None = Field(description="what its inbox accepted last")
    queued: int
    dead: int
    next_attempt_at: float | None = Field(description="earliest next attempt of its queue")
    oldest_due_age: float | None = Field(
        description="seconds since its oldest delivery still owed was queued (due, waiting "
        "for a retry or running); null when nothing is owed: how far behind this host is"
    )
    paused: bool = Field(description="an admin paused delivery to it (jobs kept, not tried)")
    blocked: bool = Field(description="a domain block covers it")


class HostReportList(BaseModel):
    items: list[HostReportOut]


class MinuteOut(BaseModel):
    minute: int = Field(description="POSIX time of the minute's first second")
    delivered: int
    failed: int


class QueuePoint(BaseModel):
    at: float
    queued: int


class ChartData(BaseModel):
    deliveries: list[MinuteOut] = Field(description="per minute, the last hour, all hosts")
    queue_depth: list[QueuePoint] = Field(
        description="queued jobs, sampled each minute by this process over the last hour"
    )

    @classmethod
    def of(cls, minutes: list[MinutePoint], depth: list[tuple[float, int]]) -> ChartData:
        return cls(
            deliveries=[
                MinuteOut(minute=m.minute, delivered=m.delivered, failed=m.failed) for m in minutes
            ],
            queue_depth=[QueuePoint(at=at, queued=n) for at, n in depth],
        )
