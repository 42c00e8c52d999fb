"""Follow relations (ports.FollowStore) on MongoDB: one document per (direction, actor)."""

from __future__ import annotations

from federation.hosts import host_key
from federation.records import Direction, Follow, FollowState
from federation.storage.mongodb.base import Document, MongoBase, without_id
from federation.storage.rows import record_from

FOLLOWS = "follows"


def follow_key(direction: Direction, actor: str) -> str:
    """The document _id; a direction never contains '|', so the key is unambiguous."""
    return f"{direction.value}|{actor}"


def _follow(doc: Document) -> Follow:
    return record_from(
        Follow, doc, direction=Direction(doc["direction"]), state=FollowState(doc["state"])
    )


class MongoFollows(MongoBase):
    async def put_follow(self, follow: Follow) -> None:
        doc = {
            "direction": follow.direction.value,
            "actor": follow.actor,
            "domain": follow.domain,
            "inbox": follow.inbox,
            "shared_inbox": follow.shared_inbox,
            "state": follow.state.value,
            "follow_id": follow.follow_id,
            "created_at": follow.created_at,
            "updated_at": follow.updated_at,
        }
        key = follow_key(follow.direction, follow.actor)
        await self._collection(FOLLOWS).replace_one({"_id": key}, doc, upsert=True)

    async def get_follow(self, direction: Direction, actor: str) -> Follow | None:
        doc = await self._collection(FOLLOWS).find_one({"_id": follow_key(direction, actor)})
        return None if doc is None else _follow(without_id(doc))

    async def list_follows(
        self, direction: Direction, state: FollowState | None = None
    ) -> list[Follow]:
        """Ordered by actor."""
        query: Document = {"direction": direction.value}
        if state is not None:
            query["state"] = state.value
        cursor = self._collection(FOLLOWS).find(query).sort("actor", 1)
        return [_follow(doc) async for doc in cursor]

    async def set_follow_state(
        self, direction: Direction, actor: str, state: FollowState, now: float
    ) -> bool:
        result = await self._collection(FOLLOWS).update_one(
            {"_id": follow_key(direction, actor)},
            {"$set": {"state": state.value, "updated_at": now}},
        )
        return result.matched_count == 1

    async def delete_follow(self, direction: Direction, actor: str) -> bool:
        result = await self._collection(FOLLOWS).delete_one({"_id": follow_key(direction, actor)})
        return result.deleted_count == 1

    async def delivery_inboxes(self) -> list[tuple[str, str]]:
        """Sorted by inbox URL."""
        pipeline: list[Document] = [
            {
                "$match": {
                    "direction": Direction.FOLLOWER.value,
                    "state": FollowState.ACCEPTED.value,
                }
            },
            {"$group": {"_id": {"$ifNull": ["$shared_inbox", "$inbox"]}}},
            {"$sort": {"_id": 1}},
        ]
        cursor = await self._collection(FOLLOWS).aggregate(pipeline)
        return [(doc["_id"], host_key(doc["_id"])) async for doc in cursor]
