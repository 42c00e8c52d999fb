"""Job handlers wrapped with metrics and a span: what every run of every job records.

The span continues the trace stamped into the job's payload when it was created (an inbound
request, a block event), so the handler's own HTTP calls carry that trace on. The outcome is
recorded as the runner will settle it: a Retry on the last allowed attempt is a give-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from opentelemetry.trace import SpanKind, Status, StatusCode

from federation.jobs.kinds import activity_type, event_time, trace_stamp
from federation.jobs.outcomes import Dead, Done, Handler, JobOutcome, is_last_attempt
from federation.observability import tracing
from federation.observability.metrics import DEAD, DONE, RETRY
from federation.observability.setup import Telemetry
from federation.records import Job


def observed(
    handlers: Mapping[str, Handler],
    telemetry: Telemetry,
    max_attempts: int,
    clock: Callable[[], float] = time.time,
) -> dict[str, Handler]:
    """The same handlers, each run measured (and traced, when tracing is on); `clock` is the
    one block events were stamped with, for the event-to-delivered lag."""
    return {kind: _observed(h, telemetry, max_attempts, clock) for kind, h in handlers.items()}


def _observed(
    handler: Handler, telemetry: Telemetry, max_attempts: int, clock: Callable[[], float]
) -> Handler:
    async def run(job: Job) -> JobOutcome:
        started = time.perf_counter()
        outcome: JobOutcome | None = None
        try:
            if telemetry.tracing_on:
                outcome = await _traced(handler, job, telemetry)
            else:
                outcome = await handler(job)
            return outcome
        finally:
            state, reason = _settled(outcome, job, max_attempts)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            event_at = event_time(job) if state == DONE else None
            telemetry.metrics.job_finished(
                job,
                state,
                elapsed_ms,
                reason=reason,
                activity=activity_type(job),
                lag_s=None if event_at is None else clock() - event_at,
            )

    return run


async def _traced(handler: Handler, job: Job, telemetry: Telemetry) -> JobOutcome:
    with telemetry.tracer.start_as_current_span(
        f"job {job.kind}",
        context=tracing.job_context(trace_stamp(job)),
        kind=SpanKind.CONSUMER,
        attributes={"job.kind": job.kind, "job.id": str(job.id), "job.attempt": job.attempts + 1},
    ) as span:
        outcome = await handler(job)
        if not isinstance(outcome, Done):
            span.set_status(Status(StatusCode.ERROR, outcome.error[:200]))
        return outcome


def _settled(outcome: JobOutcome | None, job: Job, max_attempts: int) -> tuple[str, str]:
    """(done | retry | dead, why when dead) as the runner will settle this run; None = it
    raised. A Retry on the last attempt is dead because the runner gives up ("gave_up")."""
    if isinstance(outcome, Done):
        return DONE, ""
    if isinstance(outcome, Dead):
        return DEAD, outcome.reason.value
    # A Retry, or a raise (which the runner retries).
    return (DEAD, "gave_up") if is_last_attempt(job, max_attempts) else (RETRY, "")
