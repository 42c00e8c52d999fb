"""Processing of recorded inbound activities: one small handler per activity type."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from federation.activities import (
    InvalidObject,
    RemoteBlock,
    is_block_shaped,
    object_id_of,
    object_to_block,
    types_of,
)
from federation.backend.notifications import Notifying, block_deleted, block_upserted
from federation.config import Settings
from federation.discovery import ActorUrls
from federation.errors import SelfFollow
from federation.hosts import Host
from federation.jobs.kinds import InboxPayload, payload_of
from federation.jobs.outcomes import Dead, Done, JobOutcome
from federation.outcomes import Fetcher
from federation.ports import FollowStore
from federation.records import ActorInfo, Direction, FollowState, Job
from federation.resolve.actors import InvalidActor, fetch_actor
from federation.urn import BlockUrn

log = logging.getLogger("federation.inbound")

TypeHandler = Callable[[dict[str, Any], str], Awaitable[JobOutcome]]


class FollowEvents(Protocol):
    """The follow handshake as inbound activities drive it (FollowService provides it)."""

    async def on_follow(self, follower: ActorInfo, activity: dict[str, Any], /) -> object: ...

    async def on_accept(self, actor: str, /) -> object: ...

    async def on_reject(self, actor: str, /) -> object: ...

    async def on_undo_follow(self, actor: str, /) -> object: ...


class PushedBlocks(Protocol):
    """The remote cache as peers' pushes write it (resolve.cache.RemoteCache provides it)."""

    async def put_pushed(self, block: RemoteBlock, *, signed: dict[str, Any] | None) -> bool: ...

    async def put_gone(self, urn: BlockUrn, /) -> object: ...


@dataclass(eq=False, repr=False, kw_only=True)
class InboundProcessor:
    settings: Settings
    follows: FollowEvents
    follow_store: FollowStore
    cache: PushedBlocks
    transport: Fetcher
    notifications: Notifying
    limited: Callable[[Host], Awaitable[bool]] | None = None  # a silence entry covers it?

    def __post_init__(self) -> None:
        self._me = ActorUrls(self.settings.base_url).actor
        self._handlers: dict[str, TypeHandler] = {
            "Follow": self._on_follow,
            "Accept": self._on_accept,
            "Reject": self._on_reject,
            "Undo": self._on_undo,
            "Create": self._on_upsert,
            "Update": self._on_upsert,
            "Delete": self._on_delete,
        }

    async def handle(self, job: Job) -> JobOutcome:
        """JobKind.INBOX: one accepted activity, by the type handlers above."""
        payload = payload_of(job, InboxPayload)
        activity, actor = payload.activity, payload.actor
        handled = [self._handlers[t] for t in types_of(activity) if t in self._handlers]
        handler = handled[0] if handled else None
        if handler is None:
            # Likes, Announces, Questions, Adds...: ordinary ActivityPub a knowledge base has no
            # use for. Accepted at the inbox (202) and settled here, quietly: a followed
            # Mastodon-like peer sends them all day, and none is a failure.
            log.debug("ignoring %s activity %s", activity.get("type"), activity.get("id"))
            return Done()
        return await handler(activity, actor)

    async def _on_follow(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        if object_id_of(activity) != self._me:
            return Done()  # a follow of someone else: not ours to answer
        try:
            # A TransportError propagates: the runner retries, the follower may be briefly down.
            info = await fetch_actor(self.transport, actor)
        except InvalidActor as exc:
            return Dead(f"follower's actor document unusable: {exc}")
        try:
            await self.follows.on_follow(info, activity)
        except SelfFollow as exc:  # the inbox refuses these; one recorded before it did
            return Dead(str(exc))
        return Done()

    async def _on_accept(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        await self.follows.on_accept(actor)
        return Done()

    async def _on_reject(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        await self.follows.on_reject(actor)
        return Done()

    async def _on_undo(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        inner = activity.get("object")
        inner_type = inner.get("type") if isinstance(inner, dict) else None
        if inner_type in ("Follow", None):
            # An Undo naming only the Follow's id is common; the actor can only undo its own.
            await self.follows.on_undo_follow(actor)
        return Done()

    async def _following(self, actor: str) -> bool:
        """Content is welcome from instances we follow. A pending follow counts: the peer's
        Accept and its first Creates travel in parallel and may be processed in either order."""
        relation = await self.follow_store.get_follow(Direction.FOLLOWING, actor)
        return relation is not None and relation.state in (
            FollowState.ACCEPTED,
            FollowState.PENDING,
        )

    async def _on_upsert(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        obj = activity.get("object")
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            # Legal ActivityStreams (the object by reference), but a block always travels
            # embedded and signed with its activity: nothing here for the backend.
            log.debug("ignoring %s %s: its object is not embedded", activity.get("type"), obj)
            return Done()
        if not await self._following(actor):
            log.info("ignoring %s from %s: we do not follow it", activity.get("type"), actor)
            return Done()
        if not is_block_shaped(obj):
            log.debug("ignoring %s of a non-block object %s", activity.get("type"), obj["id"])
            return Done()
        try:
            block = object_to_block(obj, expected_url=obj["id"])
        except InvalidObject as exc:
            return Dead(f"invalid block object: {exc}")
        if block.origin != BlockUrn.from_url(obj["id"]).authority:
            return Dead("block origin mismatch")
        # The proof was verified at the inbox (resolve/proofcheck.py) before it was recorded.
        if not await self.cache.put_pushed(block, signed=obj if "proof" in obj else None):
            return Done()  # an older Update arriving late must not overwrite a newer one
        limited = self.limited is not None and await self.limited(Host.parse(block.origin))
        await self.notifications.send(block_upserted(activity["id"], block, limited=limited))
        return Done()

    async def _on_delete(self, activity: dict[str, Any], actor: str) -> JobOutcome:
        object_id = object_id_of(activity)
        try:
            urn = BlockUrn.from_url(object_id or "")
        except ValueError:
            return Done()  # not a block (an actor deleting itself, say): nothing we hold
        await self.cache.put_gone(urn)
        await self.notifications.send(block_deleted(activity["id"], str(urn)))
        return Done()
