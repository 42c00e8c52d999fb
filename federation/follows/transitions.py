"""The follow state machine as data: (direction, state, event) -> new state + effects.

The state None is "no record yet". A row whose new state is None forgets the record (a domain
block leaves no trace of the relation); the backend is told the relation is undone. A
(direction, state, event) with no row is ignored, e.g. an Accept for a follow we have undone.
Every row that applies is persisted and reported to the backend by `FollowMachine`; the
effects listed here are what it sends or starts besides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from federation.records import Direction, FollowState


class FollowEvent(StrEnum):
    # We follow them (Direction.FOLLOWING).
    FOLLOW_SENT = "follow_sent"  # our admin follows; again repairs a stuck or dropped follow
    ACCEPT_RECEIVED = "accept_received"
    REJECT_RECEIVED = "reject_received"
    UNFOLLOWED = "unfollowed"  # our admin unfollows
    # They follow us (Direction.FOLLOWER): their Follow, as our federation policy judges it.
    FOLLOW_ADMITTED = "follow_admitted"  # open mode, or on the allowlist
    FOLLOW_HELD = "follow_held"  # approval mode: waits for our admin
    FOLLOW_REFUSED = "follow_refused"  # allowlist mode, not on it
    APPROVED = "approved"  # our admin approves
    REMOVED = "removed"  # our admin rejects or removes the follower
    UNDO_RECEIVED = "undo_received"  # they unfollow
    INBOX_GONE = "inbox_gone"  # their inbox answered 410 Gone
    # Either direction.
    DOMAIN_BLOCKED = "domain_blocked"  # our admin blocks their domain


class Effect(StrEnum):
    SEND_FOLLOW = "send_follow"
    SEND_UNDO = "send_undo"  # Undo of our Follow
    SEND_ACCEPT = "send_accept"
    SEND_REJECT = "send_reject"
    BACKFILL = "backfill"  # send a new follower the blocks published before it came


@dataclass(frozen=True, slots=True)
class Transition:
    state: FollowState | None  # None: forget the record
    effects: tuple[Effect, ...] = ()

    @property
    def reported(self) -> FollowState:
        """The state the backend is told: a forgotten relation is an undone one."""
        return FollowState.UNDONE if self.state is None else self.state


State = FollowState | None
Key = tuple[Direction, State, FollowEvent]

P, A, R, U = FollowState.PENDING, FollowState.ACCEPTED, FollowState.REJECTED, FollowState.UNDONE
RECORDED: tuple[State, ...] = (P, A, R, U)
ANY: tuple[State, ...] = (None, *RECORDED)
NOT_ACCEPTED: tuple[State, ...] = (None, P, R, U)
ANSWERABLE: tuple[State, ...] = (P, A, R)  # an answer to a follow we have not undone
FOLLOWING, FOLLOWER = Direction.FOLLOWING, Direction.FOLLOWER
E = FollowEvent


def _rows(
    direction: Direction, states: Iterable[State], event: FollowEvent, to: Transition
) -> dict[Key, Transition]:
    return {(direction, state, event): to for state in states}


def _to(state: FollowState | None, *effects: Effect) -> Transition:
    return Transition(state, effects)


TABLE: Mapping[Key, Transition] = {
    # --- we follow them
    **_rows(FOLLOWING, ANY, E.FOLLOW_SENT, _to(P, Effect.SEND_FOLLOW)),
    **_rows(FOLLOWING, ANSWERABLE, E.ACCEPT_RECEIVED, _to(A)),
    **_rows(FOLLOWING, ANSWERABLE, E.REJECT_RECEIVED, _to(R)),
    **_rows(FOLLOWING, RECORDED, E.UNFOLLOWED, _to(U, Effect.SEND_UNDO)),
    **_rows(FOLLOWING, RECORDED, E.DOMAIN_BLOCKED, _to(None)),
    # --- they follow us: a new follower gets an answer and, once accepted, the backfill
    **_rows(FOLLOWER, NOT_ACCEPTED, E.FOLLOW_ADMITTED, _to(A, Effect.SEND_ACCEPT, Effect.BACKFILL)),
    **_rows(FOLLOWER, NOT_ACCEPTED, E.FOLLOW_HELD, _to(P)),
    **_rows(FOLLOWER, NOT_ACCEPTED, E.FOLLOW_REFUSED, _to(R, Effect.SEND_REJECT)),
    # An accepted follower stays accepted whatever today's policy says; its repeated Follow
    # gets a fresh Accept (it may have lost ours), and no second backfill.
    **_rows(FOLLOWER, (A,), E.FOLLOW_ADMITTED, _to(A, Effect.SEND_ACCEPT)),
    **_rows(FOLLOWER, (A,), E.FOLLOW_HELD, _to(A, Effect.SEND_ACCEPT)),
    **_rows(FOLLOWER, (A,), E.FOLLOW_REFUSED, _to(A, Effect.SEND_ACCEPT)),
    **_rows(FOLLOWER, (P, R, U), E.APPROVED, _to(A, Effect.SEND_ACCEPT, Effect.BACKFILL)),
    **_rows(FOLLOWER, (A,), E.APPROVED, _to(A, Effect.SEND_ACCEPT)),
    **_rows(FOLLOWER, RECORDED, E.REMOVED, _to(R, Effect.SEND_REJECT)),
    **_rows(FOLLOWER, RECORDED, E.UNDO_RECEIVED, _to(U)),
    **_rows(FOLLOWER, (A,), E.INBOX_GONE, _to(U)),
    **_rows(FOLLOWER, RECORDED, E.DOMAIN_BLOCKED, _to(None)),
}

# The events that create or replace a relation from a fresh record (the others change the
# state of an existing one): each has a row for every state, so it always applies.
CREATING = frozenset({E.FOLLOW_SENT, E.FOLLOW_ADMITTED, E.FOLLOW_HELD, E.FOLLOW_REFUSED})


def transition(direction: Direction, state: State, event: FollowEvent) -> Transition | None:
    """The row for this event in this state; None when the event does not apply."""
    return TABLE.get((direction, state, event))
