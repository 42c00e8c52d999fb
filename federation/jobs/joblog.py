"""One log line per settled job: the operator's record of every delivery outcome.

Deliveries log as `delivery.delivered`, `delivery.retry` (reason, next attempt) and
`delivery.gave_up` (reason); other kinds as `job.<outcome>`, a finished one only at debug level
(inbound activities and backend notifications are many and uneventful).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from federation.jobs.kinds import JobKind, activity_and_inbox
from federation.observability.logs import event
from federation.records import Job

log = logging.getLogger("federation.jobs.outcome")

_LEVELS = {"done": logging.INFO, "retry": logging.WARNING, "gave_up": logging.ERROR}
_DELIVERY_EVENTS = {"done": "delivered", "retry": "retry", "gave_up": "gave_up"}


def log_settled(
    job: Job, outcome: str, reason: str = "", next_attempt: float | None = None
) -> None:
    """`outcome` is "done", "retry" or "gave_up"."""
    activity_id, inbox = activity_and_inbox(job)
    if job.kind == JobKind.DELIVER:
        name, level = f"delivery.{_DELIVERY_EVENTS[outcome]}", _LEVELS[outcome]
    else:
        name = f"job.{outcome}"
        level = logging.DEBUG if outcome == "done" else _LEVELS[outcome]
    event(
        log,
        name,
        level=level,
        job_id=str(job.id),
        kind=job.kind,
        host=job.host,
        activity_id=activity_id,
        inbox=inbox,
        attempt=job.attempts + 1,
        reason=reason[:300],
        next_attempt=_iso(next_attempt) if next_attempt is not None else None,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
