"""The remote object cache, our activity log and the remote key cache on SQLite."""

from __future__ import annotations

import sqlite3
from typing import Any

from federation.records import CachedObject, CacheState, RemoteKey
from federation.storage.rows import record_from
from federation.storage.sqlite.base import SqliteBase, dump_json, load_json

_CACHE_COLUMNS = (
    "urn, url, domain, state, block, etag, last_modified, fetched_at, expires_at, error, signed"
)


def _cached(row: sqlite3.Row) -> CachedObject:
    block, signed = _parsed(row["block"]), _parsed(row["signed"])
    state = CacheState(row["state"])
    return record_from(CachedObject, row, state=state, block=block, signed=signed)


def _parsed(text: str | None) -> Any:
    return None if text is None else load_json(text)


class SqliteObjectCache(SqliteBase):
    async def get_cached(self, urn: str) -> CachedObject | None:
        sql = f"SELECT {_CACHE_COLUMNS} FROM cached_objects WHERE urn = ?"  # noqa: S608
        row = self._db.execute(sql, (urn,)).fetchone()
        return None if row is None else _cached(row)

    async def put_cached(self, obj: CachedObject) -> None:
        block = None if obj.block is None else dump_json(obj.block)
        self._db.execute(
            f"INSERT OR REPLACE INTO cached_objects ({_CACHE_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                obj.urn,
                obj.url,
                obj.domain,
                obj.state.value,
                block,
                obj.etag,
                obj.last_modified,
                obj.fetched_at,
                obj.expires_at,
                obj.error,
                None if obj.signed is None else dump_json(obj.signed),
            ),
        )

    async def delete_cached(self, urn: str) -> bool:
        return self._db.execute("DELETE FROM cached_objects WHERE urn = ?", (urn,)).rowcount == 1

    async def purge_cached_domain(self, domain: str) -> int:
        return self._db.execute("DELETE FROM cached_objects WHERE domain = ?", (domain,)).rowcount


class SqliteActivityLog(SqliteBase):
    async def put_activity(self, activity_id: str, body: bytes, now: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO activities (id, body, created_at) VALUES (?, ?, ?)",
            (activity_id, body, now),
        )

    async def get_activity(self, activity_id: str) -> bytes | None:
        row = self._db.execute("SELECT body FROM activities WHERE id = ?", (activity_id,))
        found = row.fetchone()
        return None if found is None else bytes(found[0])


class SqliteKeyCache(SqliteBase):
    async def get_key(self, key_id: str) -> RemoteKey | None:
        row = self._db.execute(
            "SELECT key_id, owner, public_key_pem, fetched_at FROM remote_keys WHERE key_id = ?",
            (key_id,),
        ).fetchone()
        if row is None:
            return None
        return record_from(RemoteKey, row)

    async def put_key(self, key: RemoteKey) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO remote_keys (key_id, owner, public_key_pem, fetched_at)"
            " VALUES (?, ?, ?, ?)",
            (key.key_id, key.owner, key.public_key_pem, key.fetched_at),
        )
