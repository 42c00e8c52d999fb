"""Which of our blocks are federated (ports.Publications) on MongoDB: one document per block,
keyed by block id.

publish_block is a compare-and-set on the one document: a first insert is guarded by the _id,
the next generation by the generation read, so of two processes at once one begins it and the
other reads what it wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.errors import DuplicateKeyError

from federation.records import Publication
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.rows import record_from

PUBLICATIONS = "publications"


def _publication(doc: Document) -> Publication:
    return record_from(
        Publication,
        doc,
        block_id=doc["_id"],
        generation=int(doc["generation"]),
        published_at=float(doc["published_at"]),
        withdrawn_at=doc.get("withdrawn_at"),
    )


def begun(generation: int, started_by: str, now: float) -> Document:
    return {
        "generation": generation,
        "started_by": started_by,
        "published_at": now,
        "withdrawn_at": None,
    }


class MongoPublications(MongoBase):
    async def publish_block(self, block_id: str, started_by: str, now: float) -> Publication:
        publications = self._collection(PUBLICATIONS)
        while True:
            doc = await publications.find_one({"_id": block_id})
            if doc is not None and doc.get("withdrawn_at") is None:
                return _publication(doc)
            fields = begun(1 if doc is None else int(doc["generation"]) + 1, started_by, now)
            if doc is None:
                try:
                    await publications.insert_one({"_id": block_id, **fields})
                except DuplicateKeyError:
                    continue  # another process published it first: read its record
            else:
                guard = {"_id": block_id, "generation": doc["generation"]}
                result = await publications.update_one(guard, {"$set": fields})
                if result.modified_count == 0:
                    continue
            return _publication({"_id": block_id, **fields})

    async def withdraw_block(self, block_id: str, now: float) -> bool:
        publications = self._collection(PUBLICATIONS)
        await publications.update_one(
            {"_id": block_id, "withdrawn_at": None}, {"$set": {"withdrawn_at": now}}
        )
        return await publications.find_one({"_id": block_id}, {"_id": 1}) is not None

    async def publications(self, block_ids: Sequence[str]) -> dict[str, Publication]:
        if not block_ids:
            return {}
        cursor = self._collection(PUBLICATIONS).find({"_id": {"$in": list(block_ids)}})
        return {doc["_id"]: _publication(doc) async for doc in cursor}
