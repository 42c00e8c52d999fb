"""Pydantic models of the backend contract (docs/backend-contract.md), shared by both sides.

The gateway validates every backend answer with these, and the reference backend validates
every request body with them, so the two cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from federation.activities.block import Block
from federation.activities.block import LocalId as LocalId
from federation.activities.block import RemoteBlock as RemoteBlock
from federation.activities.block import Visibility as Visibility
from federation.records import Direction, FollowState

API_PREFIX = "/api/v1"  # gateway -> backend, served by the backend
GATEWAY_PREFIX = "/backend/v1"  # backend -> gateway, served by the gateway
MAX_PAGE_LIMIT = 200
MAX_RESOLVE_BATCH = 500
MAX_NOTIFICATION_BATCH = 256  # notifications in one POST /api/v1/inbound

# One block model for the whole gateway: it lives in the pure core, shared with the
# activities (federation/activities/block.py), and the contract names the local one
# BackendBlock. Block, RemoteBlock and Visibility are re-exported for the backends.
BackendBlock = Block


class BlockPage(BaseModel):
    """One page of GET /api/v1/blocks; next_cursor is None on the last page."""

    items: list[BackendBlock]
    next_cursor: str | None = None


class FollowChange(BaseModel):
    direction: Direction
    actor: str
    domain: str
    state: FollowState


class NotificationType(StrEnum):
    REMOTE_BLOCK_UPSERT = "remote_block.upsert"
    REMOTE_BLOCK_DELETE = "remote_block.delete"
    FOLLOW_CHANGED = "follow.changed"


class InboundNotification(BaseModel):
    """POST /api/v1/inbound: idempotent by id."""

    id: Annotated[str, Field(min_length=1, max_length=500)]
    type: NotificationType
    urn: str | None = None
    block: RemoteBlock | None = None
    follow: FollowChange | None = None
    # The block's origin is silenced by this instance's admin: show it as limited (e.g. not
    # in public listings). False for every other notification.
    limited: bool = False

    @model_validator(mode="after")
    def _payload_matches_type(self) -> InboundNotification:
        if self.type is NotificationType.REMOTE_BLOCK_UPSERT:
            if self.block is None or self.urn is None:
                raise ValueError("remote_block.upsert needs 'urn' and 'block'")
            if self.block.urn != self.urn:
                raise ValueError("block.urn must equal urn")
        elif self.type is NotificationType.REMOTE_BLOCK_DELETE:
            if self.urn is None:
                raise ValueError("remote_block.delete needs 'urn'")
        elif self.follow is None:
            raise ValueError("follow.changed needs 'follow'")
        return self


class InboundBatch(BaseModel):
    """POST /api/v1/inbound with a JSON array: several notifications, each applied as if posted
    alone (in order, idempotent by its own id)."""

    items: Annotated[
        list[InboundNotification], Field(min_length=1, max_length=MAX_NOTIFICATION_BATCH)
    ]


class EventType(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    VISIBILITY_CHANGED = "visibility_changed"


class BlockEvent(BaseModel):
    """POST {gateway}/backend/v1/events: idempotent by event_id."""

    event_id: Annotated[str, Field(min_length=1, max_length=200)]
    type: EventType
    block_id: LocalId
    block: BackendBlock | None = None

    @model_validator(mode="after")
    def _block_matches_type(self) -> BlockEvent:
        if self.type is EventType.DELETED:
            if self.block is not None:
                raise ValueError("a 'deleted' event carries block null")
        elif self.block is None:
            raise ValueError(f"a '{self.type.value}' event needs 'block'")
        elif self.block.id != self.block_id:
            raise ValueError("block.id must equal block_id")
        return self


class ResolveResult(BaseModel):
    """The answer for one URN from {gateway}/backend/v1/resolve."""

    urn: str
    status: Literal["ok", "gone", "not_found", "error"]
    block: RemoteBlock | None = None
    error: str | None = None
    cached: bool = False


class ResolveBatchRequest(BaseModel):
    urns: list[str] = Field(min_length=1, max_length=MAX_RESOLVE_BATCH)


class ResolveBatchResponse(BaseModel):
    results: list[ResolveResult]


class Problem(BaseModel):
    """RFC 9457 problem details, the error body in both directions."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class BlockSource(Protocol):
    """The local backend's blocks as the gateway reads them (BackendClient provides it)."""

    async def get_block(self, block_id: str) -> BackendBlock | None:
        """The block with this local id (any visibility), or None when the backend has none."""

    async def list_federated(self, cursor: str | None, limit: int) -> BlockPage:
        """One page of public and embargoed blocks in creation order."""
