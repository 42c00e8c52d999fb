"""What the MongoDB port implementations share: the database handle and BSON conversions.

Times stay POSIX floats in every field the ports read, exactly as in the SQLite store; a
BSON Date copy is written only where a TTL index needs one (TTL ignores other types).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


class MongoBase:
    def __init__(self) -> None:
        self._database: AsyncDatabase[Document] | None = None

    @property
    def _db(self) -> AsyncDatabase[Document]:
        if self._database is None:
            raise RuntimeError("the MongoDB store is not open; call open() first")
        return self._database

    def _collection(self, name: str) -> AsyncCollection[Document]:
        return self._db[name]


def bson_date(posix: float) -> datetime:
    """A timezone-aware datetime for a TTL field (BSON keeps milliseconds)."""
    return datetime.fromtimestamp(posix, tz=UTC)


def without_id(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k != "_id"}
