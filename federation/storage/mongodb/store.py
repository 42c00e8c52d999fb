"""MongoStore: every storage port on MongoDB through PyMongo's async API (AsyncMongoClient).

Several gateway processes of one instance may share one database: every write that must not
race (enqueue's dedupe, claim, finishing a job) is a single-document atomic operation or
guarded by a unique index, so no process needs a lock or a transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError, PyMongoError

from federation.errors import ConfigError
from federation.storage.mongodb.base import Document
from federation.storage.mongodb.follows import MongoFollows
from federation.storage.mongodb.hosts_policy import MongoHostStore, MongoPolicyStore
from federation.storage.mongodb.liveness import MongoLiveness
from federation.storage.mongodb.migrations import migrate
from federation.storage.mongodb.objects import MongoActivityLog, MongoKeyCache, MongoObjectCache
from federation.storage.mongodb.pauses import MongoHostPauses
from federation.storage.mongodb.publications import MongoPublications
from federation.storage.mongodb.queue import MongoJobQueue
from federation.storage.mongodb.queue_admin import MongoJobAdmin
from federation.storage.mongodb.schema import Retention, ensure_indexes
from federation.storage.mongodb.stats import MongoDeliveryStats
from federation.storage.mongodb.subscriptions import MongoSubscriptions

if TYPE_CHECKING:
    from federation.ports import Store

URL_SCHEMES = ("mongodb://", "mongodb+srv://")
SERVER_SELECTION_MS = 10_000  # fail start-up within seconds, not pymongo's default 30 s


def redacted(url: str) -> str:
    """The URL without its user:password, for messages."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{hosts}{parts.path}"


class MongoStore(
    MongoFollows,
    MongoJobQueue,
    MongoJobAdmin,
    MongoLiveness,
    MongoObjectCache,
    MongoActivityLog,
    MongoPublications,
    MongoKeyCache,
    MongoHostStore,
    MongoHostPauses,
    MongoDeliveryStats,
    MongoPolicyStore,
    MongoSubscriptions,
):
    """The shared store. ``url`` is a MongoDB connection string naming the database:
    ``mongodb://host:27017/gateway`` (options such as ``?replicaSet=rs0`` pass to PyMongo)."""

    def __init__(self, url: str, *, retention: Retention | None = None) -> None:
        super().__init__()
        if not url.startswith(URL_SCHEMES):
            raise ConfigError(f"store: not a MongoDB URL: {redacted(url)}")
        if not urlsplit(url).path.strip("/"):
            raise ConfigError(f"store: the MongoDB URL must name a database: {redacted(url)}")
        self.url = url
        self.retention = retention if retention is not None else Retention()
        self._client: AsyncMongoClient[Document] | None = None

    async def open(self) -> None:
        """Connect (the client belongs to the running event loop), create the indexes and run
        the data migrations not yet done (storage/mongodb/migrations.py). Idempotent. Raises
        ConfigError naming the server when it is unusable."""
        if self._client is not None:
            return
        try:
            client: AsyncMongoClient[Document] = AsyncMongoClient(
                self.url, serverSelectionTimeoutMS=SERVER_SELECTION_MS
            )
        except ConfigurationError as exc:
            raise ConfigError(f"store {redacted(self.url)}: {exc}") from None
        try:
            database = client.get_default_database()
            await ensure_indexes(database, self.retention)
            await migrate(database)
        except PyMongoError as exc:
            await client.close()
            raise ConfigError(f"cannot use the MongoDB store {redacted(self.url)}: {exc}") from None
        self._client, self._database = client, database

    async def drop_database(self) -> None:
        """Delete the whole database (throwaway databases of tests and benchmarks)."""
        if self._client is not None:
            await self._client.drop_database(self._db.name)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client, self._database = self._client, None, None
            await client.close()


if TYPE_CHECKING:

    def _conforms(store: MongoStore) -> Store:
        return store  # mypy fails here if MongoStore stops implementing every port
