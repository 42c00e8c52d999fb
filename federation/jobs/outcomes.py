"""What a job handler answers, and what the runner asks about a host before running a job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from federation.records import Job


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class Retry:
    error: str
    at: float | None = None  # None: the runner's backoff decides from the attempt count


class FailureReason(StrEnum):
    """Why a job was given up, as a fixed word for metrics (the error text is unbounded)."""

    GONE = "gone"  # the peer said 410: the inbox is no more
    REFUSED = "refused"  # the peer answered and refused it for good (a 4xx)
    UNAVAILABLE = "unavailable"  # its host is marked unavailable: not even tried
    OTHER = "other"


@dataclass(frozen=True)
class Dead:
    error: str
    reason: FailureReason = FailureReason.OTHER


JobOutcome = Done | Retry | Dead
Handler = Callable[[Job], Awaitable[JobOutcome]]


def is_last_attempt(job: Job, max_attempts: int) -> bool:
    """This run is the job's last allowed attempt: a Retry now ends it (dead), as a Dead
    would. The one place this is decided, for the settler and for what every run records."""
    return job.attempts + 1 >= max_attempts


class HostHealth(Protocol):
    """What the runner asks about a host (HostHealthTracker provides it). Both answer None
    when a delivery may go ahead, else when to ask again."""

    async def gate(self, host: str) -> float | None:
        """Right before running a job: may make this job the host's half-open probe."""

    async def peek(self, host: str) -> float | None:
        """Anytime: has no side effect (never takes the probe)."""

    def limit(self, host: str) -> int:
        """How many of the host's jobs may run at once now (a slow host gets fewer)."""
