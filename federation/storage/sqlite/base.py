"""What the SQLite port implementations share: the connection and the write transaction.

Every method runs its SQL synchronously inside the coroutine. SQLite answers these queries in
microseconds, far less than a hop to a worker thread would cost; and since nothing awaits
between BEGIN and COMMIT, coroutines on one loop can never interleave inside a transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class SqliteBase:
    def __init__(self) -> None:
        self._conn: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the SQLite store is not open; call open() first")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the write lock before the first read, so
        what the transaction reads cannot change under it (the claim relies on this)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT (disk full), or the connection stays mid-transaction;
            # SQLite may have rolled back by itself already.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def dump_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def load_json(text: str) -> Any:
    return json.loads(text)
