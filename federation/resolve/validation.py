"""Whether a fetched answer may be accepted as the block its URN names.

The object must come from the URN's own authority and name the URL it was fetched from, so a
peer can neither speak for another host nor smuggle one block in under another's name.
"""

from __future__ import annotations

from typing import Any

from federation.activities import (
    InvalidActivity,
    InvalidObject,
    RemoteBlock,
    is_activitystreams_media_type,
    load_object,
    object_to_block,
)
from federation.hosts import is_on
from federation.outcomes import FetchError, FetchErrorKind, FetchResult
from federation.urn import BlockUrn

# Failures worth serving a stale copy through: the peer may be back soon, the copy is still ours.
_TRANSIENT = frozenset({FetchErrorKind.TIMEOUT, FetchErrorKind.CONNECTION})


class Deleted(Exception):
    """The origin answered with a Tombstone: the block was deleted."""


class Refused(Exception):
    """A fetched answer that must not be accepted; `reason` is shown to the backend."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validated(
    urn: BlockUrn, fetched: FetchResult, max_depth: int
) -> tuple[RemoteBlock, dict[str, Any]]:
    """The block a fetched answer carries and the object it was read from, or Refused (or
    Deleted for a Tombstone)."""
    if fetched.status != 200:
        raise Refused(f"unexpected status {fetched.status}")
    if not is_activitystreams_media_type(fetched.content_type or ""):
        raise Refused(f"not an ActivityStreams document: {fetched.content_type!r}")
    if not is_on(fetched.url, urn.authority):
        raise Refused("redirected to another host: the object must come from its origin")
    obj = _parse_object(fetched.body, max_depth)
    if obj.get("type") == "Tombstone" and obj.get("id") == fetched.url:
        raise Deleted
    try:
        block = object_to_block(obj, expected_url=fetched.url)
    except InvalidObject as exc:
        raise Refused(f"invalid object: {exc.reason}") from None
    if block.urn != str(urn):
        raise Refused(f"the object is another block ({block.urn})")
    return block, obj


def _parse_object(body: bytes, max_depth: int) -> dict[str, Any]:
    try:
        return load_object(body, max_depth=max_depth)
    except InvalidActivity as exc:
        raise Refused(exc.reason) from None


def is_transient(exc: FetchError) -> bool:
    if exc.kind is FetchErrorKind.HTTP_STATUS:
        return exc.status is not None and exc.status >= 500
    return exc.kind in _TRANSIENT
