"""Our own blocks as ActivityStreams: the one converter for every place that shows a block of
this instance (GET /blocks/{id}, the outbox, and the activities that carry it to followers).

"The Create of this block" has one id, `{object id}#create-{generation}`, which the fan-out to
followers (delivery/outbound.py) sends and the outbox lists: the generation counts the times the
block was made public (records.Publication), so a block public again after a withdrawal goes
out under an id no peer has seen and dropped as a duplicate."""

from __future__ import annotations

from typing import Any

from federation.activities.block import Block
from federation.activities.context import PUBLIC
from federation.activities.objects import block_to_object
from federation.config import Settings
from federation.discovery import ActorUrls
from federation.proofs import ObjectSigner
from federation.records import Publication


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


def create_id(object_id: str, generation: int) -> str:
    """The id of the Create that made the block public for the `generation`-th time."""
    return f"{object_id}#create-{generation}"


def create_generation(publication: Publication | None) -> int:
    """The generation of the block's Create for a block public now: the live one, or the one
    its publication (delivery/outbound.py, on the block's event) is about to begin."""
    if publication is None:
        return 1
    return publication.generation if publication.live else publication.generation + 1


def listed_create(block: Block, settings: Settings, generation: int) -> dict[str, Any]:
    """The Create the outbox lists for a block: the id the fan-out sent it under."""
    obj = local_object(block, settings)
    obj.pop("@context", None)
    return {
        "id": create_id(obj["id"], generation),
        "type": "Create",
        "actor": ActorUrls(settings.base_url).actor,
        "published": obj.get("published", block.created_at.isoformat()),
        "to": [PUBLIC],
        "object": obj,
    }
