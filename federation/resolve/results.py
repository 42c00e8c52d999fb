"""What resolving a URN answers, and the cache entries those answers come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from federation.activities import RemoteBlock
from federation.records import CachedObject, CacheState

Status = Literal["ok", "gone", "not_found", "error"]


@dataclass(frozen=True)
class ResolveResult:
    urn: str
    status: Status
    block: dict[str, Any] | None
    error: str | None
    cached: bool
    mirror: str | None = None  # the peer that handed over the origin-signed copy
    copy_age: float | None = None  # seconds since that peer got it from the origin

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "urn": self.urn,
            "status": self.status,
            "block": self.block,
            "error": self.error,
            "cached": self.cached,
        }
        if self.mirror is not None:
            answer["mirror"] = {"host": self.mirror, "age_seconds": self.copy_age}
        return answer


def cache_entry_for(
    block: RemoteBlock,
    now: float,
    fresh_seconds: float,
    etag: str | None = None,
    last_modified: str | None = None,
    signed: dict[str, Any] | None = None,
) -> CachedObject:
    """The OK cache entry for a validated remote block (the inbox writes these too)."""
    return CachedObject(
        urn=block.urn,
        url=block.object_url,
        domain=block.origin,
        state=CacheState.OK,
        block=block.model_dump(mode="json"),
        etag=etag,
        last_modified=last_modified,
        fetched_at=now,
        expires_at=now + fresh_seconds,
        signed=signed,
    )


def result_of(entry: CachedObject, *, cached: bool) -> ResolveResult:
    statuses: dict[CacheState, Status] = {
        CacheState.OK: "ok",
        CacheState.GONE: "gone",
        CacheState.NOT_FOUND: "not_found",
    }
    status = statuses.get(entry.state, "error")
    return ResolveResult(entry.urn, status, entry.block, entry.error, cached)
