"""Block management of the reference backend: create, edit, delete, each with its event.

Every change writes its BlockEvent to the outbox in the same transaction as the change, so the
reporter can tell the gateway about it later even if the gateway is down now.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from federation.backend.contract import (
    BackendBlock,
    BlockEvent,
    EventType,
    LocalId,
    Visibility,
)
from federation.errors import ProblemError
from federation.refbackend.http import validation_problem
from federation.refbackend.store import BackendStore


class BlockCreate(BaseModel):
    """POST /api/v1/blocks (management API). The server assigns id and timestamps."""

    model_config = ConfigDict(extra="forbid")

    id: LocalId | None = None
    kind: str = "note"
    title: str
    content: str = ""
    author: str | None = None  # defaults to the instance name
    visibility: Visibility = Visibility.PUBLIC
    embargo_until: AwareDatetime | None = None
    references: list[str] = []
    url: str | None = None


class BlockPatch(BaseModel):
    """PATCH /api/v1/blocks/{id}: only the fields present change."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    content: str | None = None
    kind: str | None = None
    references: list[str] | None = None
    visibility: Visibility | None = None
    embargo_until: AwareDatetime | None = None


class BlockService:
    def __init__(
        self, store: BackendStore, clock: Callable[[], float], author: str, public_url: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._author = author
        self._public_url = public_url.rstrip("/")

    def create(self, request: BlockCreate) -> BackendBlock:
        now = self._clock()
        stamp = datetime.fromtimestamp(now, UTC)
        fields = request.model_dump(exclude={"id"})
        fields["author"] = request.author or self._author
        for attempt in range(5):
            block_id = request.id or readable_id(request.title)
            url = request.url or self._page_url(block_id)
            block = _checked(
                {**fields, "id": block_id, "url": url, "created_at": stamp, "updated_at": stamp}
            )
            if self._store.insert_block(block, _event(EventType.CREATED, block), now):
                return block
            if request.id is not None or attempt == 4:
                raise ProblemError(409, "Conflict", f"a block with id {block_id!r} exists")
        raise AssertionError("unreachable")  # pragma: no cover

    def edit(self, block_id: str, patch: BlockPatch) -> BackendBlock:
        current = self._require(block_id)
        changes = patch.model_dump(include=patch.model_fields_set)
        candidate = _checked({**current.model_dump(), **changes})
        if candidate == current:
            return current  # nothing changed: no event, updated_at kept
        now = self._clock()
        block = candidate.model_copy(update={"updated_at": datetime.fromtimestamp(now, UTC)})
        moved = (block.visibility, block.embargo_until) != (
            current.visibility,
            current.embargo_until,
        )
        kind = EventType.VISIBILITY_CHANGED if moved else EventType.UPDATED
        self._store.replace_block(block, _event(kind, block), now)
        return block

    def delete(self, block_id: str) -> None:
        self._require(block_id)
        event = BlockEvent(event_id=_event_id(), type=EventType.DELETED, block_id=block_id)
        self._store.delete_block(block_id, event, self._clock())

    def _page_url(self, block_id: str) -> str:
        return f"{self._public_url}/blocks/{quote(block_id, safe='')}"

    def _require(self, block_id: str) -> BackendBlock:
        block = self._store.get_block(block_id)
        if block is None:
            raise ProblemError(404, "Not found", f"no block with id {block_id!r}")
        return block


def readable_id(title: str) -> str:
    """A slug of the title plus a random suffix, e.g. 'meeting-notes-3f9a2c'."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-")
    return f"{slug or 'block'}-{secrets.token_hex(3)}"


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, seq = text.split(":", 1)
        if version != "v1" or not seq.isdigit():
            raise ValueError(text)
        return int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(400, "Invalid cursor", "use next_cursor from a previous page") from None


def _checked(fields: dict[str, Any]) -> BackendBlock:
    try:
        return BackendBlock.model_validate(fields)
    except ValidationError as exc:
        raise validation_problem(exc) from None


def _event(kind: EventType, block: BackendBlock) -> BlockEvent:
    return BlockEvent(event_id=_event_id(), type=kind, block_id=block.id, block=block)


def _event_id() -> str:
    return f"evt-{uuid.uuid4()}"
