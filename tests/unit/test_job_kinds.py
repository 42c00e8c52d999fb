"""Typed job payloads: the one encoder and decoder, and what a damaged stored payload does."""

from __future__ import annotations

from typing import Any

import pytest

from federation.backend.contract import InboundNotification
from federation.jobs.kinds import (
    BackfillPayload,
    DeliverPayload,
    EventPayload,
    InboxPayload,
    JobKind,
    MalformedPayload,
    Payload,
    ReleasePayload,
    activity_and_inbox,
    activity_type,
    decode,
    event_time,
    identity,
    kind_of,
    new_job,
    payload_of,
)
from federation.jobs.outcomes import Done, JobOutcome
from federation.jobs.runner import JobRunner
from federation.records import Job, JobState, NewJob
from federation.storage.sqlite import SqliteStore
from tests.support.records import queued_job

T0 = 1_800_000_000.0

FOLLOW_CHANGE = {
    "direction": "follower",
    "actor": "https://b.example/actor",
    "domain": "b.example",
    "state": "accepted",
}
ONE_OF_EACH: list[tuple[Payload, dict[str, Any]]] = [
    # (the value, the JSON object stored for it: the shape rows written before typing have)
    (
        DeliverPayload("https://a.example/activities/1", "https://b.example/inbox", T0),
        {
            "activity_id": "https://a.example/activities/1",
            "inbox": "https://b.example/inbox",
            "event_at": T0,
        },
    ),
    (
        InboxPayload(
            activity={"id": "https://b.example/1", "type": "Create", "object": {"x": [1]}},
            actor="https://b.example/actor",
            key_id="https://b.example/actor#main-key",
        ),
        {
            "activity": {"id": "https://b.example/1", "type": "Create", "object": {"x": [1]}},
            "actor": "https://b.example/actor",
            "key_id": "https://b.example/actor#main-key",
        },
    ),
    (
        EventPayload("ev-1", "created", "b1", {"id": "b1", "title": "T"}),
        {
            "event_id": "ev-1",
            "type": "created",
            "block_id": "b1",
            "block": {"id": "b1", "title": "T"},
        },
    ),
    (
        EventPayload("ev-2", "deleted", "b1"),
        {"event_id": "ev-2", "type": "deleted", "block_id": "b1", "block": None},
    ),
    (ReleasePayload("b1", T0 + 0.5), {"block_id": "b1", "at": T0 + 0.5}),
    (
        BackfillPayload("https://b.example/actor", "https://b.example/inbox", "f-1", None),
        {
            "actor": "https://b.example/actor",
            "inbox": "https://b.example/inbox",
            "follow_id": "f-1",
            "cursor": None,
        },
    ),
    (
        InboundNotification.model_validate(
            {
                "id": "n-1",
                "type": "follow.changed",
                "follow": FOLLOW_CHANGE,
            }
        ),
        {
            "id": "n-1",
            "type": "follow.changed",
            "urn": None,
            "block": None,
            "follow": FOLLOW_CHANGE,
            "limited": False,
        },
    ),
]


def stored(kind: str, payload: dict[str, Any]) -> Job:
    """A job as an adapter reads it back from its row."""
    return queued_job(kind, payload=payload, at=T0)


def test_a_delivery_stored_before_event_times_reads_back_without_one() -> None:
    row = {"activity_id": "https://a.example/activities/1", "inbox": "https://b.example/inbox"}
    job = stored("deliver", row)
    assert decode(job) == DeliverPayload(row["activity_id"], row["inbox"], None)
    assert event_time(job) is None
    assert event_time(stored("deliver", {**row, "event_at": T0})) == T0
    assert (
        event_time(stored("event", {"event_id": "e", "type": "created", "block_id": "b"})) is None
    )


def test_every_kind_has_one_payload_type() -> None:
    assert {kind_of(value) for value, _ in ONE_OF_EACH} == set(JobKind)


@pytest.mark.parametrize(("value", "row"), ONE_OF_EACH)
def test_a_payload_is_stored_in_the_shape_of_existing_rows(
    value: Payload, row: dict[str, Any]
) -> None:
    job = new_job(value)
    assert (job.kind, job.payload) == (kind_of(value).value, row)


# The dedupe keys rows written by earlier versions carry: a job queued again after an upgrade
# must still find its twin.
IDENTITIES = [
    "deliver:https://a.example/activities/1:https://b.example/inbox",
    "inbox:https://b.example/1",
    "event:ev-1",
    "event:ev-2",
    f"release:b1:{T0 + 0.5}",
    "backfill:f-1:start",
    "backend:n-1",
]


def test_a_job_is_named_by_the_work_it_carries() -> None:
    assert [new_job(value).dedupe_key for value, _ in ONE_OF_EACH] == IDENTITIES
    # The same work is the same job, whatever else differs: the event time of a delivery,
    # the rest of an inbound activity, a later page of one backfill is another job.
    again = DeliverPayload("https://a.example/activities/1", "https://b.example/inbox", None)
    assert identity(again) == IDENTITIES[0]
    page = BackfillPayload("https://b.example/actor", "https://b.example/inbox", "f-1", "c2")
    assert identity(page) == "backfill:f-1:c2"


@pytest.mark.parametrize(("value", "row"), ONE_OF_EACH)
def test_a_stored_payload_reads_back_as_the_value_it_was_made_from(
    value: Payload, row: dict[str, Any]
) -> None:
    job = stored(kind_of(value).value, row)
    assert decode(job) == value
    assert payload_of(job, type(value)) == value


async def test_every_kind_round_trips_through_a_real_store(store: SqliteStore) -> None:
    jobs = [new_job(value) for value, _ in ONE_OF_EACH]
    assert await store.enqueue(jobs, T0) == len(jobs)
    claimed = await store.claim("w", T0, 60.0, len(jobs))
    by_key = {job.dedupe_key: decode(job) for job in claimed}
    assert by_key == {identity(value): value for value, _ in ONE_OF_EACH}


@pytest.mark.parametrize(
    ("kind", "payload", "says"),
    [
        ("deliver", {"activity_id": "https://a.example/1"}, "malformed deliver payload: inbox: "),
        (
            "deliver",
            {"activity_id": 7, "inbox": "x"},
            "activity_id: Input should be a valid string",
        ),
        ("inbox", {"activity": "not an object", "actor": "a", "key_id": "k"}, "activity: "),
        ("release", {"block_id": "b1", "at": "tomorrow"}, "malformed release payload: at: "),
        ("backfill", {"actor": "a", "inbox": "i", "follow_id": "f"}, "cursor: "),
        ("event", {}, "event_id: "),
        ("backend", {"type": "follow.changed"}, "malformed backend payload: id: "),
        ("fanout", {}, "unknown job kind 'fanout'"),
    ],
)
def test_a_malformed_stored_payload_is_a_clear_error(
    kind: str, payload: dict[str, Any], says: str
) -> None:
    with pytest.raises(MalformedPayload) as caught:
        decode(stored(kind, payload))
    assert says in str(caught.value)


def test_a_job_of_another_kind_is_refused_by_a_handler() -> None:
    job = stored("release", {"block_id": "b1", "at": T0})
    with pytest.raises(MalformedPayload, match="a release job handed to the handler of deliver"):
        payload_of(job, DeliverPayload)


async def test_the_runner_dead_letters_a_malformed_payload_with_the_reason(
    store: SqliteStore,
) -> None:
    handled: list[DeliverPayload] = []

    async def deliver(job: Job) -> JobOutcome:
        handled.append(payload_of(job, DeliverPayload))
        return Done()

    damaged = NewJob(kind="deliver", dedupe_key="d", payload={"activity_id": "a1"})
    await store.enqueue([damaged], T0)
    runner = JobRunner(
        store,
        {JobKind.DELIVER: deliver},
        owner="r1",
        clock=lambda: T0,
        backoff=lambda attempt: 10.0,
        max_attempts=5,
        lease_seconds=60.0,
        concurrency=1,
        per_host_concurrency=1,
    )
    assert await runner.run_once() == 1
    (job,) = await store.list_jobs(JobState.DEAD)
    assert job.last_error == "malformed deliver payload: inbox: Field required"
    assert job.attempts == 1 and handled == []


def test_what_logs_and_metrics_read_of_a_job_comes_through_the_decoder() -> None:
    inbox_job = new_job(ONE_OF_EACH[1][0])
    deliver_job = stored("deliver", ONE_OF_EACH[0][1])
    backend_job = stored("backend", ONE_OF_EACH[-1][1])
    damaged = stored("inbox", {"activity": {"type": "Follow"}})  # no actor, no key_id

    assert activity_type(stored("inbox", inbox_job.payload)) == "Create"
    assert activity_type(deliver_job) is None and activity_type(damaged) is None
    assert activity_and_inbox(deliver_job) == (
        "https://a.example/activities/1",
        "https://b.example/inbox",
    )
    assert activity_and_inbox(backend_job) == ("n-1", None)
    assert activity_and_inbox(damaged) == (None, None)


def test_a_backend_row_from_before_silence_reads_back_unlimited() -> None:
    """Rows queued by a gateway without severities lack `limited`: they were never limited."""
    row = {"id": "n-1", "type": "remote_block.delete", "urn": "urn:block:b.example:x"}
    payload = payload_of(stored(JobKind.BACKEND.value, row), InboundNotification)
    assert payload.limited is False
