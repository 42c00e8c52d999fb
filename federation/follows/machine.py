"""The one owner of follow state: applies the transition table, persists each transition,
reports it to the backend and carries out its effects. Nothing else writes a follow."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from federation.activities import builders
from federation.activities.builders import new_activity_id
from federation.backend.notifications import follow_changed, queued
from federation.config import Settings
from federation.discovery import ActorUrls
from federation.errors import SelfFollow
from federation.follows.transitions import CREATING, Effect, FollowEvent, Transition, transition
from federation.hosts import Host
from federation.job_ports import JobQueue
from federation.jobs.kinds import BackfillPayload, new_job
from federation.observability.logs import event as log_event
from federation.ports import FollowStore, Publishing
from federation.records import Direction, Follow

log = logging.getLogger("federation.follows")


@dataclass(eq=False, repr=False, kw_only=True)
class FollowMachine:
    settings: Settings
    follows: FollowStore
    queue: JobQueue
    publisher: Publishing
    clock: Callable[[], float]

    def __post_init__(self) -> None:
        self._urls = ActorUrls(self.settings.base_url)
        self._own = Host.parse(self.settings.domain, self.settings.scheme)

    async def start(
        self, fresh: Follow, event: FollowEvent, activity: dict[str, Any] | None = None
    ) -> Follow:
        """A Follow sent or received: (re)create the relation from `fresh`. `activity` is the
        Follow received, answered verbatim."""
        if event not in CREATING:
            raise ValueError(f"{event} does not create a follow")
        if Host.parse(fresh.domain) == self._own:
            raise SelfFollow(fresh.domain)
        existing = await self.follows.get_follow(fresh.direction, fresh.actor)
        row = transition(fresh.direction, existing.state if existing else None, event)
        if row is None:  # the table has a row in every state for a creating event
            raise LookupError(f"no transition for {event} in {existing}")
        created = existing.created_at if existing else fresh.created_at
        after = await self._commit(replace(fresh, created_at=created), row, event, fresh=True)
        await self._run(row, after, activity)
        return after

    async def apply(self, direction: Direction, actor: str, event: FollowEvent) -> Follow | None:
        """An event on an existing relation; None when there is none or the event does not
        apply in its state (then nothing changes)."""
        existing = await self.follows.get_follow(direction, actor)
        if existing is None:
            log.info("ignoring %s for %s %s: no such relation", event, direction, actor)
            return None
        row = transition(direction, existing.state, event)
        if row is None:
            log.info("ignoring %s for %s %s in %s", event, direction, actor, existing.state)
            return None
        after = await self._commit(existing, row, event, fresh=False)
        await self._run(row, after, None)
        return after

    async def _commit(
        self, relation: Follow, row: Transition, event: FollowEvent, *, fresh: bool
    ) -> Follow:
        """Persist the transition, then report it (durably, through the queue)."""
        after = replace(relation, state=row.reported, updated_at=self.clock())
        if row.state is None:
            await self.follows.delete_follow(after.direction, after.actor)
        elif fresh:
            await self.follows.put_follow(after)
        else:
            await self.follows.set_follow_state(
                after.direction, after.actor, after.state, after.updated_at
            )
        log_event(
            log,
            "follow.state_changed",
            direction=after.direction.value,
            state=after.state.value,
            actor=after.actor,
            host=after.domain,
            activity_id=after.follow_id,
            reason=event.value,
        )
        await self._report(after)
        return after

    async def _run(
        self, row: Transition, relation: Follow, received: dict[str, Any] | None
    ) -> None:
        for effect in row.effects:
            if effect is Effect.BACKFILL:
                await self._start_backfill(relation)
            else:
                activity = self._activity(effect, relation, received)
                await self.publisher.send_to(activity, relation.inbox)

    def _activity(
        self, effect: Effect, relation: Follow, received: dict[str, Any] | None
    ) -> dict[str, Any]:
        ours, new_id = self._urls.actor, new_activity_id(self.settings.base_url)
        if effect is Effect.SEND_FOLLOW:
            return builders.follow(ours, relation.actor, relation.follow_id)
        if effect is Effect.SEND_UNDO:
            ours_sent = builders.follow(ours, relation.actor, relation.follow_id)
            return builders.undo(ours, ours_sent, new_id)
        # An answer to their Follow: the one received when we have it, else rebuilt from its id.
        theirs = received or builders.follow(relation.actor, ours, relation.follow_id)
        answer = builders.accept if effect is Effect.SEND_ACCEPT else builders.reject
        return answer(ours, theirs, new_id)

    async def _start_backfill(self, relation: Follow) -> None:
        job = new_job(
            BackfillPayload(relation.actor, relation.inbox, relation.follow_id, cursor=None)
        )
        await self.queue.enqueue([job], self.clock())
        self.publisher.wake()

    async def _report(self, relation: Follow) -> None:
        """A follow.changed notification, through the durable queue (the backend may be down)."""
        await self.queue.enqueue([queued(follow_changed(relation))], self.clock())
