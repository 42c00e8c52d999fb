"""Which of our blocks are federated (ports.Publications) on SQLite: one row per block."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from federation.records import Publication
from federation.storage.rows import record_from
from federation.storage.sqlite.base import SqliteBase

_COLUMNS = "block_id, generation, started_by, published_at, withdrawn_at"
_SELECT = f"SELECT {_COLUMNS} FROM publications"  # noqa: S608
# A withdrawn block public again begins the next generation; a live one is left as it is.
_PUBLISH = (
    f"INSERT INTO publications ({_COLUMNS}) VALUES (?, 1, ?, ?, NULL)"  # noqa: S608
    " ON CONFLICT (block_id) DO UPDATE SET generation = generation + 1,"
    " started_by = excluded.started_by, published_at = excluded.published_at,"
    " withdrawn_at = NULL WHERE withdrawn_at IS NOT NULL"
)
_WITHDRAW = "UPDATE publications SET withdrawn_at = ? WHERE block_id = ? AND withdrawn_at IS NULL"


def _publication(row: sqlite3.Row) -> Publication:
    return record_from(Publication, row)


class SqlitePublications(SqliteBase):
    async def publish_block(self, block_id: str, started_by: str, now: float) -> Publication:
        with self._write() as db:
            db.execute(_PUBLISH, [block_id, started_by, now])
            row = db.execute(_SELECT + " WHERE block_id = ?", [block_id]).fetchone()
        return _publication(row)

    async def withdraw_block(self, block_id: str, now: float) -> bool:
        with self._write() as db:
            db.execute(_WITHDRAW, [now, block_id])
            row = db.execute("SELECT 1 FROM publications WHERE block_id = ?", [block_id])
            return row.fetchone() is not None

    async def publications(self, block_ids: Sequence[str]) -> dict[str, Publication]:
        if not block_ids:
            return {}
        marks = ", ".join("?" * len(block_ids))
        rows = self._db.execute(f"{_SELECT} WHERE block_id IN ({marks})", list(block_ids))
        return {row["block_id"]: _publication(row) for row in rows}
