"""The block: the one model of it, for the backend contract and the activities alike.

The backend contract (federation.backend.contract) re-exports these as its Block and
RemoteBlock, so what the gateway reads from its backend, what it renders for peers, what it
accepts from peers and what it hands back to the backend all pass the same rules; the JSON
shape is the one docs/backend-contract.md describes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from federation.errors import UrnError
from federation.urn import BlockUrn, encode_local_id

MAX_LOCAL_ID = 200  # characters, as the contract states
MAX_TITLE_CHARS = 1000
MAX_CONTENT_BYTES = 256 * 1024
MAX_REFERENCES = 1000
MAX_ENCODED_ID = 1024  # keeps every URN well inside urn.MAX_URN_LENGTH
MAX_SHORT_TEXT = 1000  # kind, author, url

_RFC3339 = re.compile(
    r"(\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)", re.ASCII
)


def _parse_rfc3339(value: object) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime without a time zone")
        return value.astimezone(UTC)
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("must be an RFC 3339 date-time string, e.g. 2024-05-01T12:00:00Z")
    main, fraction, offset = match.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    fraction = f".{fraction[:6].ljust(6, '0')}" if fraction else ""  # datetime keeps microseconds
    return datetime.fromisoformat(f"{main.upper()}{fraction}{offset}").astimezone(UTC)


def format_rfc3339(value: datetime) -> str:
    """UTC, ``Z`` suffix, microseconds only when present."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Rfc3339 = Annotated[
    datetime, BeforeValidator(_parse_rfc3339), PlainSerializer(format_rfc3339, return_type=str)
]
ShortText = Annotated[str, Field(max_length=MAX_SHORT_TEXT)]
LocalId = Annotated[str, Field(min_length=1, max_length=MAX_LOCAL_ID)]


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    EMBARGOED = "embargoed"  # public from embargo_until on; the gateway enforces the date


def _check_local_id(value: str) -> str:
    if len(encode_local_id(value)) > MAX_ENCODED_ID:
        raise ValueError(f"local id longer than {MAX_ENCODED_ID} characters once encoded")
    return value


def _check_reference(value: str) -> str:
    """A reference is a block URN (anything starting 'urn:') or a local id of the same origin."""
    if value[:4].lower() == "urn:":
        return str(BlockUrn.parse(value))  # normalised, so equal references compare equal
    return _check_local_id(value)


class Block(BaseModel):
    """One block, any visibility. Unknown fields are ignored (newer backends may add their
    own), sizes are bounded, references normalised; frozen, so a checked block stays checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Annotated[LocalId, AfterValidator(_check_local_id)]
    kind: ShortText
    title: str = Field(max_length=MAX_TITLE_CHARS)
    content: str
    author: ShortText
    visibility: Visibility
    embargo_until: Rfc3339 | None = None
    created_at: Rfc3339
    updated_at: Rfc3339
    references: list[str] = Field(default_factory=list, max_length=MAX_REFERENCES)
    url: ShortText | None = None

    @field_validator("embargo_until")
    @classmethod
    def _embargo_date_only_when_embargoed(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        # The contract: embargo_until is "ignored (read as null)" outside an embargo, so nobody
        # reads a stale date by mistake. Checked first (a malformed date is refused whatever
        # the visibility), then dropped; visibility is declared, hence validated, before it.
        return value if info.data.get("visibility") is Visibility.EMBARGOED else None

    @model_validator(mode="after")
    def _embargo_needs_a_date(self) -> Block:
        if self.visibility is Visibility.EMBARGOED and self.embargo_until is None:
            raise ValueError("embargo_until is required when visibility is 'embargoed'")
        return self

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        # Cheap bound first: a character is at most 4 UTF-8 bytes.
        if len(value) * 4 > MAX_CONTENT_BYTES and len(value.encode()) > MAX_CONTENT_BYTES:
            raise ValueError(f"content larger than {MAX_CONTENT_BYTES} bytes")
        return value

    @field_validator("references")
    @classmethod
    def _references(cls, values: list[str]) -> list[str]:
        try:
            return [_check_reference(v) for v in values]
        except UrnError as exc:
            raise ValueError(f"bad reference: {exc}") from None

    def block_urn(self, authority: str) -> BlockUrn:
        return BlockUrn(authority, self.id)

    def reference_urns(self, authority: str) -> list[str]:
        """References as URNs: local ids become URNs of ``authority`` (the block's origin)."""
        return [r if r.startswith("urn:") else str(BlockUrn(authority, r)) for r in self.references]

    def to_remote(self, authority: str, object_url: str) -> RemoteBlock:
        """This block as another instance sees it: ``authority`` its origin, ``object_url``
        its ActivityPub id, every reference a URN."""
        urn = self.block_urn(authority)
        fields = {name: getattr(self, name) for name in Block.model_fields}
        return RemoteBlock(
            **{**fields, "references": self.reference_urns(urn.authority)},
            urn=str(urn),
            origin=urn.authority,
            object_url=object_url,
        )

    def is_publishable(self, now: datetime) -> bool:
        """Public, or embargoed with the embargo over: the only blocks that may leave."""
        if self.visibility is Visibility.PUBLIC:
            return True
        return (
            self.visibility is Visibility.EMBARGOED
            and self.embargo_until is not None
            and self.embargo_until <= now
        )


class RemoteBlock(Block):
    """A block of another instance, normalised: every reference is a URN, and ``urn``,
    ``origin`` and ``object_url`` all name the same block."""

    urn: str
    origin: str
    object_url: str

    @field_validator("references")
    @classmethod
    def _all_urns(cls, values: list[str]) -> list[str]:
        if not all(v.startswith("urn:") for v in values):
            raise ValueError("a remote block's references must all be URNs")
        return values

    @model_validator(mode="after")
    def _consistent_names(self) -> RemoteBlock:
        urn = BlockUrn(self.origin, self.id)
        if (
            self.origin != urn.authority
            or self.urn != str(urn)
            or BlockUrn.from_url(self.object_url) != urn
        ):
            raise ValueError("urn, origin, id and object_url do not name the same block")
        return self
