"""The follow state machine, row by row: for each (direction, state, event) the stored state
afterwards, what was sent or started (the effects) and the report to the backend, observed on a
real SQLite store through the one owner, FollowMachine.

SPEC below is written out independently of federation/follows/transitions.py: the table must
hold exactly these rows, and each row must do what it says here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from federation.backend.contract import InboundNotification
from federation.config import Settings
from federation.delivery.publisher import Publisher
from federation.errors import SelfFollow
from federation.follows.machine import FollowMachine
from federation.follows.transitions import CREATING, TABLE, FollowEvent
from federation.jobs.kinds import (
    BackfillPayload,
    DeliverPayload,
    JobKind,
    payload_of,
)
from federation.records import Direction, Follow, FollowState, JobState
from federation.storage import SqliteStore

E = FollowEvent
P, A, R, U = FollowState.PENDING, FollowState.ACCEPTED, FollowState.REJECTED, FollowState.UNDONE
FOLLOWING, FOLLOWER = Direction.FOLLOWING, Direction.FOLLOWER
GONE = "forgotten"  # the record is deleted (the backend hears "undone")
ALL: tuple[FollowState | None, ...] = (None, P, A, R, U)

OURS = "https://gw.example/actor"
THEIRS = "https://peer.example/actor"
INBOX = "https://peer.example/actor/inbox"


@dataclass(frozen=True)
class Row:
    direction: Direction
    state: FollowState | None
    event: FollowEvent
    to: FollowState | str
    sends: tuple[str, ...] = ()  # activity types delivered to the peer's inbox
    backfill: bool = False

    def __str__(self) -> str:
        return f"{self.direction}-{self.state}-{self.event}"


def rows(
    direction: Direction,
    states: Iterable[FollowState | None],
    event: FollowEvent,
    to: FollowState | str,
    *sends: str,
    backfill: bool = False,
) -> list[Row]:
    return [Row(direction, s, event, to, sends, backfill) for s in states]


SPEC: list[Row] = [
    *rows(FOLLOWING, ALL, E.FOLLOW_SENT, P, "Follow"),
    *rows(FOLLOWING, (P, A, R), E.ACCEPT_RECEIVED, A),
    *rows(FOLLOWING, (P, A, R), E.REJECT_RECEIVED, R),
    *rows(FOLLOWING, (P, A, R, U), E.UNFOLLOWED, U, "Undo"),
    *rows(FOLLOWING, (P, A, R, U), E.DOMAIN_BLOCKED, GONE),
    *rows(FOLLOWER, (None, P, R, U), E.FOLLOW_ADMITTED, A, "Accept", backfill=True),
    *rows(FOLLOWER, (A,), E.FOLLOW_ADMITTED, A, "Accept"),
    *rows(FOLLOWER, (None, P, R, U), E.FOLLOW_HELD, P),
    *rows(FOLLOWER, (A,), E.FOLLOW_HELD, A, "Accept"),
    *rows(FOLLOWER, (None, P, R, U), E.FOLLOW_REFUSED, R, "Reject"),
    *rows(FOLLOWER, (A,), E.FOLLOW_REFUSED, A, "Accept"),
    *rows(FOLLOWER, (P, R, U), E.APPROVED, A, "Accept", backfill=True),
    *rows(FOLLOWER, (A,), E.APPROVED, A, "Accept"),
    *rows(FOLLOWER, (P, A, R, U), E.REMOVED, R, "Reject"),
    *rows(FOLLOWER, (P, A, R, U), E.UNDO_RECEIVED, U),
    *rows(FOLLOWER, (A,), E.INBOX_GONE, U),
    *rows(FOLLOWER, (P, A, R, U), E.DOMAIN_BLOCKED, GONE),
]
SPECIFIED = {(r.direction, r.state, r.event) for r in SPEC}
IGNORED = [
    (d, s, e)
    for d in Direction
    for s in ALL
    for e in FollowEvent
    if (d, s, e) not in SPECIFIED and e not in CREATING
]


class Machine:
    """A FollowMachine on a real SQLite store, and what it left there."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.clock = 1000.0
        publisher = Publisher(
            activities=store, queue=store, follows=store, clock=self.now, wake=lambda: None
        )
        settings = Settings(domain="gw.example", scheme="https")
        self.machine = FollowMachine(
            settings=settings, follows=store, queue=store, publisher=publisher, clock=self.now
        )

    def now(self) -> float:
        return self.clock

    async def seed(self, direction: Direction, state: FollowState | None) -> None:
        if state is not None:
            await self.store.put_follow(relation(direction, state, created_at=10.0))

    async def jobs(self) -> list[Any]:
        return await self.store.list_jobs(JobState.QUEUED, None)

    async def sent(self) -> list[dict[str, Any]]:
        out = []
        for job in await self.jobs():
            if job.kind == JobKind.DELIVER:
                delivery = payload_of(job, DeliverPayload)
                assert delivery.inbox == INBOX
                body = await self.store.get_activity(delivery.activity_id)
                assert body is not None
                out.append(json.loads(body))
        return out

    async def reports(self) -> list[dict[str, Any] | None]:
        jobs = await self.jobs()
        notes = [payload_of(j, InboundNotification) for j in jobs if j.kind == JobKind.BACKEND]
        return [n.follow.model_dump(mode="json") if n.follow else None for n in notes]

    async def backfills(self) -> list[BackfillPayload]:
        jobs = await self.jobs()
        return [payload_of(j, BackfillPayload) for j in jobs if j.kind == JobKind.BACKFILL]


def relation(direction: Direction, state: FollowState, created_at: float = 500.0) -> Follow:
    follow_id = f"{OURS}#follow-1" if direction is FOLLOWING else f"{THEIRS}#follow-1"
    return Follow(
        direction=direction,
        actor=THEIRS,
        domain="peer.example",
        inbox=INBOX,
        shared_inbox=None,
        state=state,
        follow_id=follow_id,
        created_at=created_at,
        updated_at=created_at,
    )


@pytest.fixture
def m(store: SqliteStore) -> Machine:
    return Machine(store)


def test_the_table_holds_exactly_the_specified_rows() -> None:
    assert set(TABLE) == SPECIFIED
    assert len(SPEC) == len(SPECIFIED)  # no row specified twice


@pytest.mark.parametrize("row", SPEC, ids=str)
async def test_each_row_sets_its_state_and_has_its_effects(m: Machine, row: Row) -> None:
    await m.seed(row.direction, row.state)
    received = {"id": f"{THEIRS}#follow-2", "type": "Follow", "actor": THEIRS, "object": OURS}
    result: Follow | None
    if row.event in CREATING:
        result = await m.machine.start(relation(row.direction, P), row.event, received)
    else:
        result = await m.machine.apply(row.direction, THEIRS, row.event)

    stored = await m.store.get_follow(row.direction, THEIRS)
    if row.to == GONE:
        assert stored is None
        assert result is not None and result.state is U
    else:
        assert stored is not None and stored.state is row.to and result == stored
        assert stored.created_at == (10.0 if row.state is not None else 500.0)
    reported = U if row.to == GONE else FollowState(row.to)
    assert await m.reports() == [
        {"direction": row.direction.value, "actor": THEIRS, "domain": "peer.example",
         "state": reported.value}
    ]  # fmt: skip
    sent = await m.sent()
    assert [a["type"] for a in sent] == list(row.sends)
    for activity in sent:
        assert activity["actor"] == OURS
        if activity["type"] in ("Accept", "Reject") and row.event in CREATING:
            assert activity["object"] == received  # the Follow received, answered verbatim
        elif activity["type"] in ("Accept", "Reject"):
            assert activity["object"]["id"] == f"{THEIRS}#follow-1"
        elif activity["type"] == "Undo":
            assert activity["object"]["id"] == f"{OURS}#follow-1"
        else:
            assert activity["object"] == THEIRS
    backfills = await m.backfills()
    assert [b.actor for b in backfills] == ([THEIRS] if row.backfill else [])


@pytest.mark.parametrize(("direction", "state", "event"), IGNORED, ids=str)
async def test_an_event_outside_the_table_changes_nothing(
    m: Machine, direction: Direction, state: FollowState | None, event: FollowEvent
) -> None:
    await m.seed(direction, state)
    before = await m.store.get_follow(direction, THEIRS)
    assert await m.machine.apply(direction, THEIRS, event) is None
    assert await m.store.get_follow(direction, THEIRS) == before
    assert await m.jobs() == []


@pytest.mark.parametrize("event", sorted(CREATING))
async def test_following_our_own_domain_is_refused_and_leaves_nothing(
    m: Machine, event: FollowEvent
) -> None:
    direction = FOLLOWING if event is E.FOLLOW_SENT else FOLLOWER
    ours = Follow(
        direction=direction,
        actor=OURS,
        domain="gw.example",
        inbox=f"{OURS}/inbox",
        shared_inbox=None,
        state=P,
        follow_id=f"{OURS}#f",
        created_at=1.0,
        updated_at=1.0,
    )
    with pytest.raises(SelfFollow, match=r"gw\.example is this instance"):
        await m.machine.start(ours, event)
    assert await m.store.list_follows(direction) == []
    assert await m.jobs() == []
