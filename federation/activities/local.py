"""Our own blocks as ActivityStreams: the one converter for every place that shows a block of
this instance (GET /blocks/{id}, the outbox, and the activities that carry it to followers)."""

from __future__ import annotations

from typing import Any

from federation.activities.block import Block
from federation.activities.context import PUBLIC
from federation.activities.objects import block_to_object
from federation.config import Settings
from federation.discovery import ActorUrls
from federation.proofs import ObjectSigner


def local_object(
    block: Block, settings: Settings, signer: ObjectSigner | None = None
) -> dict[str, Any]:
    """The block's object; with `signer`, carrying its own proof (FEP-8b32), dated by the
    block's last change: one version always renders to the same bytes, and any holder of a
    copy can show that we wrote it."""
    obj = block_to_object(
        block, base_url=settings.base_url, authority=settings.domain, scheme=settings.scheme
    )
    if signer is None:
        return obj
    return signer.sign(obj, block.updated_at.timestamp())


def listed_create(block: Block, settings: Settings) -> dict[str, Any]:
    """The Create the outbox lists for a block, with an id derived from the object's, so the
    same block always yields the same activity id (peers dedupe on it)."""
    obj = local_object(block, settings)
    obj.pop("@context", None)
    return {
        "id": f"{obj['id']}#create",
        "type": "Create",
        "actor": ActorUrls(settings.base_url).actor,
        "published": obj.get("published", block.created_at.isoformat()),
        "to": [PUBLIC],
        "object": obj,
    }
