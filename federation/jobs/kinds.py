"""The kinds of durable job and the one payload shape of each: the only encoder and decoder.

A job is stored as its kind's name and a JSON object. Producers build jobs with new_job() from a
payload value; handlers read them back with payload_of(). Nothing else reads a job's stored
payload, so a shape is defined once, here, and a stored payload that does not fit its kind
(an older release's row, a hand-edited database) ends as MalformedPayload, which the runner
dead-letters with the reason, never as a KeyError in the middle of a handler.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from federation.backend.contract import InboundNotification
from federation.observability.tracing import TRACE_KEY, stamped
from federation.records import Job, NewJob


class JobKind(StrEnum):
    DELIVER = "deliver"  # one of our activities to one inbox
    INBOX = "inbox"  # an accepted inbound activity, to process
    EVENT = "event"  # a block event reported by the local backend
    RELEASE = "release"  # an embargo ends: publish the block if it is now released
    BACKFILL = "backfill"  # one page of public blocks to a new follower, then the next
    BACKEND = "backend"  # a notification the backend could not take at once


@dataclass(frozen=True, slots=True)
class DeliverPayload:
    activity_id: str  # the activity's id in the activity log, which holds its body
    inbox: str
    # When the backend reported the block event this delivers (POSIX seconds): the start of
    # the event-to-delivered lag. None for handshakes and backfill, which answer no event.
    event_at: float | None = None


@dataclass(frozen=True, slots=True)
class InboxPayload:
    activity: dict[str, Any]  # the verified activity as received
    actor: str  # the actor that signed it
    key_id: str


@dataclass(frozen=True, slots=True)
class EventPayload:
    """The backend's block event body (backend contract BlockEvent, as JSON)."""

    event_id: str
    type: str  # "created", "updated" or "deleted"
    block_id: str
    block: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReleasePayload:
    block_id: str
    at: float  # when the embargo ends (POSIX seconds)


@dataclass(frozen=True, slots=True)
class BackfillPayload:
    actor: str  # the new follower
    inbox: str
    follow_id: str  # the id of its Follow activity
    cursor: str | None  # the backend's page cursor; None for the first page


# A BACKEND job carries the backend contract's InboundNotification itself (one model for the
# notification, queued or posted): backend/notifications.py builds and sends them.
Payload = (
    DeliverPayload
    | InboxPayload
    | EventPayload
    | ReleasePayload
    | BackfillPayload
    | InboundNotification
)
P = TypeVar("P", bound=Payload)

_TYPES: dict[JobKind, type[Payload]] = {
    JobKind.DELIVER: DeliverPayload,
    JobKind.INBOX: InboxPayload,
    JobKind.EVENT: EventPayload,
    JobKind.RELEASE: ReleasePayload,
    JobKind.BACKFILL: BackfillPayload,
    JobKind.BACKEND: InboundNotification,
}
_KINDS: dict[type, JobKind] = {cls: kind for kind, cls in _TYPES.items()}
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls))
    for cls in _TYPES.values()
    if dataclasses.is_dataclass(cls)
}
_ADAPTERS: dict[JobKind, TypeAdapter[Any]] = {
    kind: TypeAdapter(cls) for kind, cls in _TYPES.items()
}


class MalformedPayload(ValueError):
    """A stored payload does not fit its job kind; the message says what is wrong."""


def kind_of(payload: Payload) -> JobKind:
    return _KINDS[type(payload)]


def encode(payload: Payload) -> dict[str, Any]:
    """The JSON object stored for `payload`. Every field already holds a JSON value and the
    object is only ever serialised, so a shallow copy is enough: dataclasses.asdict() would
    deep-copy the whole activity of an inbox job, a seventh of the inbox pipeline's time."""
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    return {name: getattr(payload, name) for name in _FIELDS[type(payload)]}


def identity(payload: Payload) -> str:
    """The job's dedupe key: what makes two jobs the same work, so that queueing it again (a
    re-run after a crash, a peer's retry, a backend's repeated event) inserts nothing."""
    match payload:
        case DeliverPayload(activity_id=activity_id, inbox=inbox):
            return f"deliver:{activity_id}:{inbox}"  # one activity, once to each inbox
        case InboxPayload(activity=activity):
            return f"inbox:{activity['id']}"
        case EventPayload(event_id=event_id):
            return f"event:{event_id}"
        case ReleasePayload(block_id=block_id, at=at):
            return f"release:{block_id}:{at}"
        case BackfillPayload(follow_id=follow_id, cursor=cursor):
            return f"backfill:{follow_id}:{'start' if cursor is None else cursor}"
        case InboundNotification(id=notification_id):
            return f"backend:{notification_id}"
    raise TypeError(f"not a job payload: {type(payload).__name__}")


def new_job(payload: Payload, *, host: str = "", run_at: float = 0.0) -> NewJob:
    """The job that carries `payload`; its kind and its identity (dedupe key) follow from the
    payload. The current trace context rides along (observability/tracing.py); decode()
    ignores it."""
    return NewJob(
        kind=kind_of(payload).value,
        dedupe_key=identity(payload),
        payload=stamped(encode(payload)),
        host=host,
        run_at=run_at,
    )


def decode(job: Job) -> Payload:
    """The typed payload of a stored job; MalformedPayload when it does not fit its kind."""
    try:
        kind = JobKind(job.kind)
    except ValueError:
        raise MalformedPayload(f"unknown job kind {job.kind!r}") from None
    try:
        decoded: Payload = _ADAPTERS[kind].validate_python(job.payload)
    except ValidationError as exc:
        raise MalformedPayload(f"malformed {kind.value} payload: {_describe(exc)}") from None
    return decoded


def payload_of(job: Job, expected: type[P]) -> P:
    """decode(job), which must be of type `expected` (a handler's own kind)."""
    payload = decode(job)
    if not isinstance(payload, expected):
        raise MalformedPayload(
            f"a {job.kind} job handed to the handler of {_KINDS[expected].value} jobs"
        )
    return payload


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "payload"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def trace_stamp(job: Job) -> object:
    """The trace context new_job stamped beside the payload (observability.tracing reads it),
    or None: a job made with tracing off has none."""
    return job.payload.get(TRACE_KEY)


def activity_type(job: Job) -> str | None:
    """The type of the activity an inbox job carries (None for other kinds, or if damaged)."""
    try:
        payload = decode(job)
    except MalformedPayload:
        return None
    if not isinstance(payload, InboxPayload):
        return None
    kind = payload.activity.get("type")
    return kind if isinstance(kind, str) else None


def event_time(job: Job) -> float | None:
    """When the block event a delivery job carries was reported (None for other jobs)."""
    if job.kind != JobKind.DELIVER.value:
        return None
    try:
        payload = decode(job)
    except MalformedPayload:
        return None
    return payload.event_at if isinstance(payload, DeliverPayload) else None


def activity_and_inbox(job: Job) -> tuple[str | None, str | None]:
    """(the activity or notification id, the inbox) a job is about, for its log line."""
    try:
        payload = decode(job)
    except MalformedPayload:
        return None, None
    if isinstance(payload, DeliverPayload):
        return payload.activity_id, payload.inbox
    if isinstance(payload, InboundNotification):
        return payload.id, None
    return None, None
