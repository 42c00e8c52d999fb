"""The ActivityStreams shapes we speak: blocks as objects, activities, our JSON-LD context."""

from federation.activities.block import Block, RemoteBlock, format_rfc3339
from federation.activities.builders import (
    accept,
    create,
    delete,
    follow,
    new_activity_id,
    reject,
    undo,
    update,
)
from federation.activities.context import (
    AS_CONTEXT,
    AS_MEDIA_TYPE,
    LD_MEDIA_TYPE,
    PUBLIC,
    context_document,
    is_activitystreams_media_type,
    ns_url,
    object_context,
)
from federation.activities.errors import InvalidActivity, InvalidObject
from federation.activities.objects import (
    actor_url,
    block_to_object,
    followers_url,
    is_block_shaped,
    object_to_block,
    tombstone,
)
from federation.activities.validate import (
    actor_of,
    load_object,
    object_id_of,
    parse_activity,
    types_of,
)

__all__ = [
    "AS_CONTEXT",
    "AS_MEDIA_TYPE",
    "LD_MEDIA_TYPE",
    "PUBLIC",
    "Block",
    "InvalidActivity",
    "InvalidObject",
    "RemoteBlock",
    "accept",
    "actor_of",
    "actor_url",
    "block_to_object",
    "context_document",
    "create",
    "delete",
    "follow",
    "followers_url",
    "format_rfc3339",
    "is_activitystreams_media_type",
    "is_block_shaped",
    "load_object",
    "new_activity_id",
    "ns_url",
    "object_context",
    "object_id_of",
    "object_to_block",
    "parse_activity",
    "reject",
    "tombstone",
    "types_of",
    "undo",
    "update",
]
