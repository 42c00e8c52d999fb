"""The remote object cache, our activity log and the remote key cache on MongoDB."""

from __future__ import annotations

import json
from typing import Any

from federation.records import CachedObject, CacheState, RemoteKey
from federation.storage.mongodb.base import Document, MongoBase, bson_date
from federation.storage.rows import record_from

CACHE = "cached_objects"
ACTIVITIES = "activities"
KEYS = "remote_keys"


def _cached(doc: Document) -> CachedObject:
    # Entries cached before the cache kept the origin-signed copy have no "signed" field.
    block, signed = _parsed(doc["block"]), _parsed(doc.get("signed"))
    state = CacheState(doc["state"])
    return record_from(CachedObject, doc, urn=doc["_id"], state=state, block=block, signed=signed)


def _parsed(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _cache_document(obj: CachedObject) -> Document:
    doc: Document = {
        "url": obj.url,
        "domain": obj.domain,
        "state": obj.state.value,
        # JSON text, as in SQLite: any JSON round-trips, whatever its keys ('$x', 'a.b').
        "block": None if obj.block is None else json.dumps(obj.block, separators=(",", ":")),
        "etag": obj.etag,
        "last_modified": obj.last_modified,
        "fetched_at": obj.fetched_at,
        "expires_at": obj.expires_at,
        "error": obj.error,
        "signed": None if obj.signed is None else json.dumps(obj.signed, separators=(",", ":")),
    }
    if obj.state in (CacheState.FAILED, CacheState.NOT_FOUND):
        # The negative-cache TTL index reads this Date; OK and GONE entries have none.
        doc["purge_at"] = bson_date(obj.expires_at)
    return doc


class MongoObjectCache(MongoBase):
    async def get_cached(self, urn: str) -> CachedObject | None:
        doc = await self._collection(CACHE).find_one({"_id": urn})
        return None if doc is None else _cached(doc)

    async def put_cached(self, obj: CachedObject) -> None:
        await self._collection(CACHE).replace_one(
            {"_id": obj.urn}, _cache_document(obj), upsert=True
        )

    async def delete_cached(self, urn: str) -> bool:
        return (await self._collection(CACHE).delete_one({"_id": urn})).deleted_count == 1

    async def purge_cached_domain(self, domain: str) -> int:
        return (await self._collection(CACHE).delete_many({"domain": domain})).deleted_count


class MongoActivityLog(MongoBase):
    async def put_activity(self, activity_id: str, body: bytes, now: float) -> None:
        doc = {"body": body, "created_at": now}
        await self._collection(ACTIVITIES).replace_one({"_id": activity_id}, doc, upsert=True)

    async def get_activity(self, activity_id: str) -> bytes | None:
        doc = await self._collection(ACTIVITIES).find_one({"_id": activity_id})
        return None if doc is None else bytes(doc["body"])


class MongoKeyCache(MongoBase):
    async def get_key(self, key_id: str) -> RemoteKey | None:
        doc = await self._collection(KEYS).find_one({"_id": key_id})
        if doc is None:
            return None
        return record_from(RemoteKey, doc, key_id=doc["_id"])

    async def put_key(self, key: RemoteKey) -> None:
        doc = {
            "owner": key.owner,
            "public_key_pem": key.public_key_pem,
            "fetched_at": key.fetched_at,
        }
        await self._collection(KEYS).replace_one({"_id": key.key_id}, doc, upsert=True)
