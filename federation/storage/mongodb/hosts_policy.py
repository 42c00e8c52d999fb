"""Host delivery health (ports.HostStore) and domain policy (ports.PolicyStore) on MongoDB."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import DeleteOne, ReplaceOne, ReturnDocument

from federation.records import DomainBlock, HostFailure, HostHealth, Severity
from federation.storage.mongodb.base import Document, MongoBase
from federation.storage.rows import record_from

HOSTS = "host_health"
BLOCKS = "domain_blocks"
SETTINGS = "settings"
POLICY_VERSION = "policy_version"
POLICY_VERSION_ID = "domain_policy"


def _health(doc: Document) -> HostHealth:
    return record_from(HostHealth, doc, host=doc["_id"], failure_days=list(doc["failure_days"]))


# A new record: every field at its default except those a write sets.
_NEW_HOST: Document = {
    "consecutive_failures": 0,
    "failure_days": [],
    "last_failure_at": 0.0,
    "last_success_at": 0.0,
    "circuit_open_until": 0.0,
    "unavailable": False,
    "signature_scheme": None,
}
_CLEARED: Document = {
    "consecutive_failures": 0,
    "failure_days": [],
    "circuit_open_until": 0.0,
    "unavailable": False,
}


def _upsert(update: Document) -> Document:
    """`update` plus $setOnInsert of every default field it does not touch itself."""
    touched = {name for fields in update.values() for name in fields}
    defaults = {k: v for k, v in _NEW_HOST.items() if k not in touched}
    return {**update, "$setOnInsert": defaults} if defaults else update


class MongoHostStore(MongoBase):
    """Each write is one update naming only its fields ($inc, $set, $addToSet), so concurrent
    workers' writes to one host add up instead of replacing each other's."""

    async def get_host(self, host: str) -> HostHealth | None:
        doc = await self._collection(HOSTS).find_one({"_id": host})
        return None if doc is None else _health(doc)

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]:
        """Ordered by host."""
        query: Document = {"unavailable": True} if unavailable_only else {}
        cursor = self._collection(HOSTS).find(query).sort("_id", 1)
        return [_health(doc) async for doc in cursor]

    async def record_failure(self, host: str, failure: HostFailure) -> HostHealth:
        hosts = self._collection(HOSTS)
        counted = await hosts.find_one_and_update(
            {"_id": host},
            _upsert(
                {
                    "$inc": {"consecutive_failures": 1},
                    "$set": {"last_failure_at": failure.at},
                    "$addToSet": {"failure_days": failure.day},
                }
            ),
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if counted is None:  # an upsert returning the document after always finds one
            raise RuntimeError(f"host record {host!r} vanished during its update")
        # The verdicts follow from the counts just returned. Each is monotone (a later day
        # cutoff, a later reopening, unavailable set never cleared here), so two workers
        # applying theirs in either order end in the same record.
        days = sorted(counted["failure_days"])
        verdict: Document = {}
        if counted["consecutive_failures"] >= failure.breaker_threshold:
            verdict["$max"] = {"circuit_open_until": failure.at + failure.breaker_open_seconds}
        if len(days) >= failure.unavailable_after_days:
            verdict["$set"] = {"unavailable": True}
        if len(days) > failure.unavailable_after_days:
            cutoff = days[-failure.unavailable_after_days]
            verdict["$pull"] = {"failure_days": {"$lt": cutoff}}
        if not verdict:
            return _health(counted)
        after = await hosts.find_one_and_update(
            {"_id": host}, verdict, return_document=ReturnDocument.AFTER
        )
        return _health(after if after is not None else counted)

    async def record_success(self, host: str, at: float) -> None:
        await self._set(host, {**_CLEARED, "last_success_at": at})

    async def set_signature_scheme(self, host: str, scheme: str) -> None:
        await self._set(host, {"signature_scheme": scheme})

    async def reset_host(self, host: str) -> HostHealth | None:
        doc = await self._collection(HOSTS).find_one_and_update(
            {"_id": host}, {"$set": _CLEARED}, return_document=ReturnDocument.AFTER
        )
        return None if doc is None else _health(doc)

    async def _set(self, host: str, fields: Document) -> None:
        await self._collection(HOSTS).update_one(
            {"_id": host}, _upsert({"$set": fields}), upsert=True
        )


def _block_doc(block: DomainBlock) -> Document:
    return {
        "reason": block.reason,
        "created_at": block.created_at,
        "severity": block.severity.value,
        "by_admin": block.by_admin,
    }


def _block(doc: Document) -> DomainBlock:
    # A block stored before severities existed is a suspension.
    severity = Severity(doc.get("severity", Severity.SUSPEND))
    by_admin = bool(doc.get("by_admin", True))  # every block before subscriptions
    return record_from(DomainBlock, doc, domain=doc["_id"], severity=severity, by_admin=by_admin)


class MongoPolicyStore(MongoBase):
    async def add_block(self, block: DomainBlock) -> None:
        await self._collection(BLOCKS).replace_one(
            {"_id": block.domain}, _block_doc(block), upsert=True
        )
        await self._bump()

    async def apply_blocks(self, put: Sequence[DomainBlock], remove: Sequence[str]) -> None:
        writes: list[ReplaceOne[Document] | DeleteOne] = [
            ReplaceOne({"_id": b.domain}, _block_doc(b), upsert=True) for b in put
        ]
        writes += [DeleteOne({"_id": domain}) for domain in remove]
        if writes:
            await self._collection(BLOCKS).bulk_write(writes, ordered=True)
        await self._bump()

    async def remove_block(self, domain: str) -> bool:
        result = await self._collection(BLOCKS).delete_one({"_id": domain})
        await self._bump()
        return result.deleted_count == 1

    async def list_blocks(self) -> list[DomainBlock]:
        """Ordered by domain."""
        cursor = self._collection(BLOCKS).find().sort("_id", 1)
        return [_block(doc) async for doc in cursor]

    async def is_blocked(self, domain: str) -> bool:
        """Exact match: the policy service decides whether parent domains count."""
        suspended = {"_id": domain, "severity": {"$in": [Severity.SUSPEND.value, None]}}
        return await self._collection(BLOCKS).find_one(suspended, {"_id": 1}) is not None

    async def get_setting(self, key: str) -> str | None:
        doc = await self._collection(SETTINGS).find_one({"_id": key})
        return None if doc is None else str(doc["value"])

    async def set_setting(self, key: str, value: str) -> None:
        await self._collection(SETTINGS).replace_one({"_id": key}, {"value": value}, upsert=True)
        await self._bump()

    async def policy_version(self) -> int:
        doc = await self._collection(POLICY_VERSION).find_one({"_id": POLICY_VERSION_ID})
        return 0 if doc is None else int(doc["version"])

    async def _bump(self) -> None:
        # After the data write it announces (acknowledged first): a reader that sees the new
        # version reads the new policy. No transaction needed for that order.
        await self._collection(POLICY_VERSION).update_one(
            {"_id": POLICY_VERSION_ID}, {"$inc": {"version": 1}}, upsert=True
        )
