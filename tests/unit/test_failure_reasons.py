"""Why a delivery was given up reaches the metrics as the fixed word its outcome carries."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from federation.jobs.observed import observed
from federation.jobs.outcomes import Dead, FailureReason, JobOutcome, Retry
from federation.observability.setup import build_telemetry
from federation.records import Job
from tests.support.records import queued_job

REASON = "activitypub_delivery_failure_reason"


def delivery(host: str, attempts: int = 0) -> Job:
    return queued_job("deliver", host=host, attempts=attempts)


async def test_each_given_up_delivery_counts_under_its_reason() -> None:
    telemetry = build_telemetry("t", metrics=True, environ={})
    runs: list[tuple[Job, JobOutcome]] = [
        (delivery("gone.example"), Dead("HTTP 410", FailureReason.GONE)),
        (delivery("refusing.example"), Dead("HTTP 403", FailureReason.REFUSED)),
        (delivery("down.example"), Dead("domain unavailable", FailureReason.UNAVAILABLE)),
        (delivery("odd.example"), Dead("activity not found: a")),
        (delivery("tired.example", attempts=2), Retry("HTTP 503")),  # its last attempt
        (delivery("busy.example", attempts=0), Retry("HTTP 503")),  # retried: no failure
    ]
    try:
        for job, outcome in runs:

            async def handler(_: Job, outcome: JobOutcome = outcome) -> JobOutcome:
                return outcome

            await observed({"deliver": handler}, telemetry, max_attempts=3)["deliver"](job)
        text = telemetry.render().decode()
    finally:
        telemetry.shutdown()
    failed = {
        s.labels["activitypub_remote_host"]: s.labels[REASON]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "activitypub_delivery_permanent_failure_total"
    }
    assert failed == {
        "gone.example": "gone",
        "refusing.example": "refused",
        "down.example": "unavailable",
        "odd.example": "other",
        "tired.example": "gave_up",
    }
