"""Host delivery health (ports.HostStore) and domain policy (ports.PolicyStore) on MongoDB."""

from __future__ import annotations

from federation.records import DomainBlock, HostHealth
from federation.storage.mongodb.base import Document, MongoBase

HOSTS = "host_health"
BLOCKS = "domain_blocks"
SETTINGS = "settings"


def _health(doc: Document) -> HostHealth:
    return HostHealth(
        host=doc["_id"],
        consecutive_failures=doc["consecutive_failures"],
        failure_days=list(doc["failure_days"]),
        last_failure_at=doc["last_failure_at"],
        last_success_at=doc["last_success_at"],
        circuit_open_until=doc["circuit_open_until"],
        unavailable=doc["unavailable"],
        signature_scheme=doc["signature_scheme"],
    )


class MongoHostStore(MongoBase):
    async def get_host(self, host: str) -> HostHealth | None:
        doc = await self._collection(HOSTS).find_one({"_id": host})
        return None if doc is None else _health(doc)

    async def put_host(self, health: HostHealth) -> None:
        doc = {
            "consecutive_failures": health.consecutive_failures,
            "failure_days": list(health.failure_days),
            "last_failure_at": health.last_failure_at,
            "last_success_at": health.last_success_at,
            "circuit_open_until": health.circuit_open_until,
            "unavailable": health.unavailable,
            "signature_scheme": health.signature_scheme,
        }
        await self._collection(HOSTS).replace_one({"_id": health.host}, doc, upsert=True)

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]:
        """Ordered by host."""
        query: Document = {"unavailable": True} if unavailable_only else {}
        cursor = self._collection(HOSTS).find(query).sort("_id", 1)
        return [_health(doc) async for doc in cursor]


class MongoPolicyStore(MongoBase):
    async def add_block(self, block: DomainBlock) -> None:
        doc = {"reason": block.reason, "created_at": block.created_at}
        await self._collection(BLOCKS).replace_one({"_id": block.domain}, doc, upsert=True)

    async def remove_block(self, domain: str) -> bool:
        result = await self._collection(BLOCKS).delete_one({"_id": domain})
        return result.deleted_count == 1

    async def list_blocks(self) -> list[DomainBlock]:
        """Ordered by domain."""
        cursor = self._collection(BLOCKS).find().sort("_id", 1)
        return [DomainBlock(doc["_id"], doc["reason"], doc["created_at"]) async for doc in cursor]

    async def is_blocked(self, domain: str) -> bool:
        """Exact match: the policy service decides whether parent domains count."""
        return await self._collection(BLOCKS).find_one({"_id": domain}, {"_id": 1}) is not None

    async def get_setting(self, key: str) -> str | None:
        doc = await self._collection(SETTINGS).find_one({"_id": key})
        return None if doc is None else str(doc["value"])

    async def set_setting(self, key: str, value: str) -> None:
        await self._collection(SETTINGS).replace_one({"_id": key}, {"value": value}, upsert=True)
