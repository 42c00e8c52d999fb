"""Follows between instance actors: the handshake in both directions, idempotent and repairable.

This service turns what happened (an admin action, an inbound activity, a delivery answer, a
domain block) into an event of the transition table; `FollowMachine` applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from federation.activities.builders import new_activity_id
from federation.config import FederationMode, Settings
from federation.domains import PolicySnapshot
from federation.errors import HostError
from federation.follows.transitions import FollowEvent
from federation.hosts import Host
from federation.ports import FollowStore
from federation.records import ActorInfo, Direction, Follow, FollowState


class PolicySnapshots(Protocol):
    async def current(self) -> PolicySnapshot:
        """The domain policy now (domains.DomainPolicy provides it)."""


class FollowTransitions(Protocol):
    """The transition table applied and persisted (follows.machine.FollowMachine provides it)."""

    async def start(
        self, fresh: Follow, event: FollowEvent, activity: dict[str, Any] | None = None
    ) -> Follow: ...

    async def apply(
        self, direction: Direction, actor: str, event: FollowEvent
    ) -> Follow | None: ...


@dataclass(eq=False, repr=False, kw_only=True)
class FollowService:
    settings: Settings
    follows: FollowStore
    policy: PolicySnapshots
    machine: FollowTransitions
    clock: Callable[[], float]

    # --- we follow them -------------------------------------------------------------------

    async def follow(self, target: ActorInfo) -> Follow:
        """Send a Follow. Always sends, so a follow stuck pending, or one the other side has
        dropped, is repaired by following again; a peer that still has us answers the
        repeated Follow with a fresh Accept at once. Raises SelfFollow for our own domain."""
        follow_id = new_activity_id(self.settings.base_url)
        fresh = self._relation(Direction.FOLLOWING, target, follow_id)
        return await self.machine.start(fresh, FollowEvent.FOLLOW_SENT)

    async def unfollow(self, actor: str) -> Follow | None:
        return await self.machine.apply(Direction.FOLLOWING, actor, FollowEvent.UNFOLLOWED)

    async def on_accept(self, actor: str) -> bool:
        event = FollowEvent.ACCEPT_RECEIVED
        return await self.machine.apply(Direction.FOLLOWING, actor, event) is not None

    async def on_reject(self, actor: str) -> bool:
        event = FollowEvent.REJECT_RECEIVED
        return await self.machine.apply(Direction.FOLLOWING, actor, event) is not None

    # --- they follow us -------------------------------------------------------------------

    async def on_follow(self, follower: ActorInfo, follow_activity: dict[str, Any]) -> Follow:
        """Record a Follow; answer by policy. A repeated Follow re-sends the answer."""
        fresh = self._relation(Direction.FOLLOWER, follower, str(follow_activity["id"]))
        event = await self._judge(follower.host)
        return await self.machine.start(fresh, event, follow_activity)

    async def _judge(self, host: Host) -> FollowEvent:
        policy = await self.policy.current()
        if policy.mode is FederationMode.ALLOWLIST and not policy.allowlists(host):
            return FollowEvent.FOLLOW_REFUSED
        if policy.limits(host):  # silenced: an admin decides, whatever the mode
            return FollowEvent.FOLLOW_HELD
        if policy.mode is FederationMode.APPROVAL:
            return FollowEvent.FOLLOW_HELD
        return FollowEvent.FOLLOW_ADMITTED

    async def approve(self, actor: str) -> Follow | None:
        return await self.machine.apply(Direction.FOLLOWER, actor, FollowEvent.APPROVED)

    async def reject(self, actor: str) -> Follow | None:
        return await self.machine.apply(Direction.FOLLOWER, actor, FollowEvent.REMOVED)

    async def remove_follower(self, actor: str) -> bool:
        return await self.reject(actor) is not None

    async def on_undo_follow(self, actor: str) -> bool:
        event = FollowEvent.UNDO_RECEIVED
        return await self.machine.apply(Direction.FOLLOWER, actor, event) is not None

    async def inbox_gone(self, inbox: str) -> int:
        """A follower's inbox answered 410: end every accepted follower it (or the shared
        inbox) stands for. Returns how many ended."""
        ended = 0
        for follow in await self.follows.list_follows(Direction.FOLLOWER, FollowState.ACCEPTED):
            if inbox in (follow.inbox, follow.shared_inbox):
                event = FollowEvent.INBOX_GONE
                ended += await self.machine.apply(follow.direction, follow.actor, event) is not None
        return ended

    # --- moderation -----------------------------------------------------------------------

    async def domain_blocked(self, domain: str) -> int:
        """Forget every relation, either way, with a host the block on `domain` covers."""
        entry, dropped = Host.parse(domain), 0
        for direction in Direction:
            for follow in await self.follows.list_follows(direction):
                if _covers(entry, follow.domain):
                    dropped += await self._ended(follow, FollowEvent.DOMAIN_BLOCKED)
        return dropped

    async def _ended(self, follow: Follow, event: FollowEvent) -> bool:
        return await self.machine.apply(follow.direction, follow.actor, event) is not None

    def _relation(self, direction: Direction, actor: ActorInfo, follow_id: str) -> Follow:
        now = self.clock()
        return Follow(
            direction=direction,
            actor=actor.id,
            domain=actor.domain,
            inbox=actor.inbox,
            shared_inbox=actor.shared_inbox,
            state=FollowState.PENDING,  # the machine sets the state the table says
            follow_id=follow_id,
            created_at=now,
            updated_at=now,
        )


def _covers(entry: Host, stored: str) -> bool:
    try:
        return entry.covers(Host.parse(stored))
    except HostError:
        return False  # a stored host no URL has: nothing to cover
