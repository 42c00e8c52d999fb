"""Blocklist subscriptions and the entries they hold (ports.SubscriptionStore) on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import asdict

from federation.records import (
    SEVERITY_RANK,
    SUBSCRIPTION_HISTORY,
    BlocklistSubscription,
    DomainBlock,
    Severity,
    SubscriptionFetch,
)
from federation.storage.rows import record_from
from federation.storage.sqlite.base import SqliteBase, dump_json, load_json

_COLUMNS = (
    "id, url, title, format, max_shrink, created_at, etag, last_modified, next_fetch_at,"
    " listed, history"
)


def _subscription(row: sqlite3.Row) -> BlocklistSubscription:
    history = tuple(SubscriptionFetch(**entry) for entry in load_json(row["history"]))
    return record_from(BlocklistSubscription, row, history=history)


class SqliteSubscriptions(SqliteBase):
    async def add_subscription(self, subscription: BlocklistSubscription) -> bool:
        s = subscription
        cursor = self._db.execute(
            f"INSERT INTO blocklist_subscriptions ({_COLUMNS})"  # noqa: S608 (constants only)
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]') ON CONFLICT (url) DO NOTHING",
            (
                *(s.id, s.url, s.title, s.format, s.max_shrink, s.created_at),
                *(s.etag, s.last_modified, s.next_fetch_at, s.listed),
            ),
        )
        return cursor.rowcount == 1

    async def list_subscriptions(self) -> list[BlocklistSubscription]:
        sql = f"SELECT {_COLUMNS} FROM blocklist_subscriptions ORDER BY created_at, id"  # noqa: S608
        return [_subscription(row) for row in self._db.execute(sql)]

    async def get_subscription(self, subscription_id: str) -> BlocklistSubscription | None:
        sql = f"SELECT {_COLUMNS} FROM blocklist_subscriptions WHERE id = ?"  # noqa: S608
        row = self._db.execute(sql, (subscription_id,)).fetchone()
        return None if row is None else _subscription(row)

    async def claim_subscription(self, subscription_id: str, now: float, until: float) -> bool:
        cursor = self._db.execute(
            "UPDATE blocklist_subscriptions SET next_fetch_at = ?"
            " WHERE id = ? AND next_fetch_at <= ?",
            (until, subscription_id, now),
        )
        return cursor.rowcount == 1

    async def record_fetch(
        self,
        subscription_id: str,
        fetch: SubscriptionFetch,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        listed: int | None = None,
    ) -> None:
        with self._write() as db:
            row = db.execute(
                "SELECT history FROM blocklist_subscriptions WHERE id = ?", (subscription_id,)
            ).fetchone()
            if row is None:
                return  # removed meanwhile
            history = [*load_json(row["history"]), asdict(fetch)][-SUBSCRIPTION_HISTORY:]
            db.execute(
                "UPDATE blocklist_subscriptions SET history = ? WHERE id = ?",
                (dump_json(history), subscription_id),
            )
            if listed is not None:
                db.execute(
                    "UPDATE blocklist_subscriptions SET etag = ?, last_modified = ?, listed = ?"
                    " WHERE id = ?",
                    (etag, last_modified, listed, subscription_id),
                )

    async def apply_subscription(
        self, subscription_id: str, entries: Sequence[DomainBlock]
    ) -> tuple[list[str], list[str]]:
        with self._write() as db:
            return _hold(db, subscription_id, entries)

    async def remove_subscription(self, subscription_id: str) -> list[str] | None:
        with self._write() as db:
            gone = db.execute(
                "DELETE FROM blocklist_subscriptions WHERE id = ?", (subscription_id,)
            )
            if gone.rowcount != 1:
                return None
            return _hold(db, subscription_id, [])[1]


def _hold(
    db: sqlite3.Connection, subscription_id: str, entries: Sequence[DomainBlock]
) -> tuple[list[str], list[str]]:
    """Inside a write transaction: the holder rows, then every entry they touch."""
    before = {
        r[0]
        for r in db.execute(
            "SELECT domain FROM block_holders WHERE subscription_id = ?", (subscription_id,)
        )
    }
    db.execute("DELETE FROM block_holders WHERE subscription_id = ?", (subscription_id,))
    db.executemany(
        "INSERT INTO block_holders (domain, subscription_id, severity, reason) VALUES (?, ?, ?, ?)",
        [(e.domain, subscription_id, e.severity.value, e.reason) for e in entries],
    )
    added = [e.domain for e in entries if _settle(db, e)]
    removed = [d for d in sorted(before - {e.domain for e in entries}) if _retract(db, d)]
    return added, removed


def _settle(db: sqlite3.Connection, entry: DomainBlock) -> bool:
    """Add the entry, or give a subscribed one its holders' strictest severity; True: added."""
    row = db.execute("SELECT by_admin FROM domain_blocks WHERE domain = ?", (entry.domain,))
    found = row.fetchone()
    if found is not None:
        if not found[0]:  # subscribed: its holders' strictest (an admin's is left alone)
            _resettle(db, entry.domain)
        return False
    severity, reason = _strictest(db, entry.domain)
    db.execute(
        "INSERT INTO domain_blocks (domain, reason, created_at, severity, by_admin)"
        " VALUES (?, ?, ?, ?, 0)",
        (entry.domain, reason, entry.created_at, severity.value),
    )
    return True


def _strictest(db: sqlite3.Connection, domain: str) -> tuple[Severity, str]:
    held = db.execute("SELECT severity, reason FROM block_holders WHERE domain = ?", (domain,))
    return max(((Severity(s), r) for s, r in held), key=lambda h: SEVERITY_RANK[h[0]])


def _resettle(db: sqlite3.Connection, domain: str) -> None:
    severity, reason = _strictest(db, domain)
    db.execute(
        "UPDATE domain_blocks SET severity = ?, reason = ? WHERE domain = ? AND by_admin = 0"
        " AND (severity != ? OR reason != ?)",
        (severity.value, reason, domain, severity.value, reason),
    )


def _retract(db: sqlite3.Connection, domain: str) -> bool:
    """Remove a subscribed entry nobody holds any more; True: removed."""
    if db.execute("SELECT 1 FROM block_holders WHERE domain = ?", (domain,)).fetchone():
        _resettle(db, domain)  # another subscription still holds it: it stays
        return False
    cursor = db.execute("DELETE FROM domain_blocks WHERE domain = ? AND by_admin = 0", (domain,))
    return cursor.rowcount == 1
