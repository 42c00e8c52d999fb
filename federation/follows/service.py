"""Follows between instance actors: the handshake in both directions, idempotent and repairable."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from federation.activities import builders
from federation.activities.builders import new_activity_id
from federation.config import FederationMode, Settings
from federation.delivery.publisher import Publishing
from federation.discovery import ActorUrls
from federation.domains import current_mode, is_allowlisted
from federation.hosts import Host
from federation.jobs.kinds import BackendPayload, BackfillPayload, new_job
from federation.observability.logs import event
from federation.ports import FollowStore, JobQueue, PolicyStore
from federation.records import Direction, Follow, FollowState
from federation.resolve.actors import ActorInfo

log = logging.getLogger("federation.follows")


class FollowService:
    def __init__(
        self,
        *,
        settings: Settings,
        follows: FollowStore,
        policy: PolicyStore,
        queue: JobQueue,
        publisher: Publishing,
        clock: Callable[[], float],
    ) -> None:
        self._settings = settings
        self._follows = follows
        self._policy = policy
        self._queue = queue
        self._publisher = publisher
        self._clock = clock
        self._urls = ActorUrls(settings.base_url)

    # --- we follow them -------------------------------------------------------------------

    async def follow(self, target: ActorInfo) -> Follow:
        """Send a Follow. Always sends, so a follow stuck pending, or one the other side has
        dropped, is repaired by following again; a peer that still has us answers the
        repeated Follow with a fresh Accept at once."""
        existing = await self._follows.get_follow(Direction.FOLLOWING, target.id)
        now = self._clock()
        follow_id = new_activity_id(self._settings.base_url)
        relation = Follow(
            Direction.FOLLOWING,
            target.id,
            target.domain,
            target.inbox,
            target.shared_inbox,
            FollowState.PENDING,
            follow_id,
            existing.created_at if existing else now,
            now,
        )
        await self._put(relation)
        await self._publisher.send_to(
            builders.follow(self._urls.actor, target.id, follow_id), target.inbox
        )
        return relation

    async def unfollow(self, actor: str) -> Follow | None:
        existing = await self._follows.get_follow(Direction.FOLLOWING, actor)
        if existing is None:
            return None
        await self._set_state(Direction.FOLLOWING, actor, FollowState.UNDONE)
        inner = builders.follow(self._urls.actor, actor, existing.follow_id)
        undo = builders.undo(self._urls.actor, inner, new_activity_id(self._settings.base_url))
        await self._publisher.send_to(undo, existing.inbox)
        return await self._follows.get_follow(Direction.FOLLOWING, actor)

    async def on_accept(self, actor: str) -> bool:
        return await self._answer(actor, FollowState.ACCEPTED)

    async def on_reject(self, actor: str) -> bool:
        return await self._answer(actor, FollowState.REJECTED)

    async def _answer(self, actor: str, state: FollowState) -> bool:
        existing = await self._follows.get_follow(Direction.FOLLOWING, actor)
        if existing is None or existing.state is FollowState.UNDONE:
            log.info("ignoring %s from %s: we do not follow it", state.value, actor)
            return False
        return await self._set_state(Direction.FOLLOWING, actor, state)

    # --- they follow us -------------------------------------------------------------------

    async def on_follow(self, follower: ActorInfo, follow_activity: dict[str, Any]) -> Follow:
        """Record a Follow; answer by policy. A repeated Follow re-sends the answer."""
        now = self._clock()
        existing = await self._follows.get_follow(Direction.FOLLOWER, follower.id)
        state = await self._decide(follower.host, existing)
        relation = Follow(
            Direction.FOLLOWER,
            follower.id,
            follower.domain,
            follower.inbox,
            follower.shared_inbox,
            state,
            str(follow_activity["id"]),
            existing.created_at if existing else now,
            now,
        )
        await self._put(relation)
        if state is FollowState.ACCEPTED:
            await self._send_accept(relation, follow_activity)
            if existing is None or existing.state is not FollowState.ACCEPTED:
                await self._start_backfill(relation)
        elif state is FollowState.REJECTED:
            await self._send_reject(relation, follow_activity)
        return relation

    async def _decide(self, host: Host, existing: Follow | None) -> FollowState:
        if existing is not None and existing.state is FollowState.ACCEPTED:
            return FollowState.ACCEPTED
        mode = await current_mode(self._policy, self._settings)
        if mode is FederationMode.OPEN:
            return FollowState.ACCEPTED
        if mode is FederationMode.ALLOWLIST:
            allowed = await is_allowlisted(self._policy, self._settings, host)
            return FollowState.ACCEPTED if allowed else FollowState.REJECTED
        return FollowState.PENDING

    async def approve(self, actor: str) -> Follow | None:
        return await self._decide_pending(actor, FollowState.ACCEPTED)

    async def reject(self, actor: str) -> Follow | None:
        return await self._decide_pending(actor, FollowState.REJECTED)

    async def _decide_pending(self, actor: str, state: FollowState) -> Follow | None:
        existing = await self._follows.get_follow(Direction.FOLLOWER, actor)
        if existing is None:
            return None
        await self._set_state(Direction.FOLLOWER, actor, state)
        follow_activity = builders.follow(actor, self._urls.actor, existing.follow_id)
        if state is FollowState.ACCEPTED:
            await self._send_accept(existing, follow_activity)
            if existing.state is not FollowState.ACCEPTED:
                await self._start_backfill(existing)
        else:
            await self._send_reject(existing, follow_activity)
        return await self._follows.get_follow(Direction.FOLLOWER, actor)

    async def remove_follower(self, actor: str) -> bool:
        existing = await self._follows.get_follow(Direction.FOLLOWER, actor)
        if existing is None:
            return False
        await self._set_state(Direction.FOLLOWER, actor, FollowState.REJECTED)
        follow_activity = builders.follow(actor, self._urls.actor, existing.follow_id)
        await self._send_reject(existing, follow_activity)
        return True

    async def on_undo_follow(self, actor: str) -> bool:
        return await self._set_state(Direction.FOLLOWER, actor, FollowState.UNDONE)

    async def _send_accept(self, relation: Follow, follow_activity: dict[str, Any]) -> None:
        accept = builders.accept(
            self._urls.actor, follow_activity, new_activity_id(self._settings.base_url)
        )
        await self._publisher.send_to(accept, relation.inbox)

    async def _send_reject(self, relation: Follow, follow_activity: dict[str, Any]) -> None:
        reject = builders.reject(
            self._urls.actor, follow_activity, new_activity_id(self._settings.base_url)
        )
        await self._publisher.send_to(reject, relation.inbox)

    async def _start_backfill(self, relation: Follow) -> None:
        job = new_job(
            BackfillPayload(relation.actor, relation.inbox, relation.follow_id, cursor=None),
            dedupe_key=f"backfill:{relation.follow_id}:start",
        )
        await self._queue.enqueue([job], self._clock())
        self._publisher.wake()

    # --- every state change is also reported to the local backend ----------------------------

    async def _put(self, relation: Follow) -> None:
        await self._follows.put_follow(relation)
        await self._report(relation)

    async def _set_state(self, direction: Direction, actor: str, state: FollowState) -> bool:
        now = self._clock()
        changed = await self._follows.set_follow_state(direction, actor, state, now)
        relation = await self._follows.get_follow(direction, actor) if changed else None
        if relation is not None:
            await self._report(relation)
        return changed

    async def _report(self, relation: Follow) -> None:
        """A follow.changed notification, through the durable queue (the backend may be down)."""
        event(
            log,
            "follow.state_changed",
            direction=relation.direction.value,
            state=relation.state.value,
            actor=relation.actor,
            host=relation.domain,
            activity_id=relation.follow_id,
        )
        notification_id = (
            f"follow:{relation.direction.value}:{relation.actor}:{relation.state.value}:"
            f"{relation.updated_at}"
        )
        notice = BackendPayload(
            id=notification_id,
            type="follow.changed",
            follow={
                "direction": relation.direction.value,
                "actor": relation.actor,
                "domain": relation.domain,
                "state": relation.state.value,
            },
        )
        job = new_job(notice, dedupe_key=f"backend:{notification_id}")
        await self._queue.enqueue([job], self._clock())
