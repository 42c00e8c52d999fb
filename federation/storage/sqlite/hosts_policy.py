"""Host delivery health (ports.HostStore) and domain policy (ports.PolicyStore) on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from federation.records import DomainBlock, HostFailure, HostHealth, Severity
from federation.storage.rows import record_from
from federation.storage.sqlite.base import SqliteBase, dump_json, load_json

_HOST_COLUMNS = (
    "host, consecutive_failures, failure_days, last_failure_at, last_success_at,"
    " circuit_open_until, unavailable, signature_scheme"
)


def _health(row: sqlite3.Row) -> HostHealth:
    return record_from(
        HostHealth,
        row,
        failure_days=list(load_json(row["failure_days"])),
        unavailable=bool(row["unavailable"]),
    )


# A new record: every field at its default except those a write sets.
_NEW_HOST = {
    "consecutive_failures": 0,
    "failure_days": "[]",
    "last_failure_at": 0.0,
    "last_success_at": 0.0,
    "circuit_open_until": 0.0,
    "unavailable": 0,
    "signature_scheme": None,
}
_FIELDS = tuple(_NEW_HOST)
_RETURNING = f" RETURNING {_HOST_COLUMNS}"


class SqliteHostStore(SqliteBase):
    """Each write is one statement (or one IMMEDIATE transaction) naming only its fields, so
    writers in other processes are serialised by SQLite and add up instead of overwriting."""

    async def get_host(self, host: str) -> HostHealth | None:
        sql = f"SELECT {_HOST_COLUMNS} FROM host_health WHERE host = ?"  # noqa: S608
        row = self._db.execute(sql, (host,)).fetchone()
        return None if row is None else _health(row)

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]:
        """Ordered by host."""
        where = " WHERE unavailable = 1" if unavailable_only else ""
        sql = f"SELECT {_HOST_COLUMNS} FROM host_health{where} ORDER BY host"  # noqa: S608
        return [_health(row) for row in self._db.execute(sql)]

    async def record_failure(self, host: str, failure: HostFailure) -> HostHealth:
        with self._write() as db:
            counted = self._upsert(
                db,
                host,
                {"consecutive_failures": 1, "failure_days": dump_json([failure.day])},
                "consecutive_failures = consecutive_failures + 1, last_failure_at = :at,"
                " failure_days = CASE WHEN EXISTS"
                " (SELECT 1 FROM json_each(failure_days) WHERE value = :day)"
                " THEN failure_days ELSE json_insert(failure_days, '$[#]', :day) END",
                {"at": failure.at, "day": failure.day},
                last_failure_at=failure.at,
            )
            # Read under the write lock taken above: the verdicts follow from these counts.
            days = sorted(counted.failure_days)[-failure.unavailable_after_days :]
            opens = counted.consecutive_failures >= failure.breaker_threshold
            row = db.execute(
                "UPDATE host_health SET failure_days = :days,"  # noqa: S608 (constants only)
                " circuit_open_until = CASE WHEN :opens THEN MAX(circuit_open_until, :until)"
                " ELSE circuit_open_until END,"
                " unavailable = MAX(unavailable, :unavailable) WHERE host = :host" + _RETURNING,
                {
                    "host": host,
                    "days": dump_json(days),
                    "opens": opens,
                    "until": failure.at + failure.breaker_open_seconds,
                    "unavailable": int(len(days) >= failure.unavailable_after_days),
                },
            ).fetchone()
        return _health(row)

    async def record_success(self, host: str, at: float) -> None:
        cleared = "consecutive_failures = 0, failure_days = '[]', circuit_open_until = 0,"
        self._upsert(
            self._db,
            host,
            {},
            cleared + " unavailable = 0, last_success_at = :at",
            {"at": at},
            last_success_at=at,
        )

    async def set_signature_scheme(self, host: str, scheme: str) -> None:
        self._upsert(
            self._db,
            host,
            {},
            "signature_scheme = :scheme",
            {"scheme": scheme},
            signature_scheme=scheme,
        )

    async def reset_host(self, host: str) -> HostHealth | None:
        row = self._db.execute(
            "UPDATE host_health SET consecutive_failures = 0, failure_days = '[]',"  # noqa: S608
            " circuit_open_until = 0, unavailable = 0 WHERE host = ?" + _RETURNING,
            (host,),
        ).fetchone()
        return None if row is None else _health(row)

    @staticmethod
    def _upsert(
        db: sqlite3.Connection,
        host: str,
        inserted: dict[str, object],
        update: str,
        params: dict[str, object],
        **also_inserted: object,
    ) -> HostHealth:
        """Insert the record with `inserted` (and `also_inserted`) over the defaults, or, when
        it exists, apply `update` (SQL over the stored values) to it."""
        values = {**_NEW_HOST, **inserted, **also_inserted}
        columns = ", ".join(_FIELDS)
        placeholders = ", ".join(f":new_{name}" for name in _FIELDS)
        sql = (
            f"INSERT INTO host_health (host, {columns}) VALUES (:host, {placeholders})"  # noqa: S608
            f" ON CONFLICT (host) DO UPDATE SET {update}" + _RETURNING
        )
        bound = {"host": host, **params, **{f"new_{k}": v for k, v in values.items()}}
        return _health(db.execute(sql, bound).fetchone())


_PUT_BLOCK = (
    "INSERT OR REPLACE INTO domain_blocks (domain, reason, created_at, severity, by_admin)"
    " VALUES (?, ?, ?, ?, ?)"
)


def _block_row(block: DomainBlock) -> tuple[str, str, float, str, int]:
    return (block.domain, block.reason, block.created_at, block.severity.value, block.by_admin)


class SqlitePolicyStore(SqliteBase):
    async def add_block(self, block: DomainBlock) -> None:
        self._db.execute(_PUT_BLOCK, _block_row(block))

    async def apply_blocks(self, put: Sequence[DomainBlock], remove: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany(_PUT_BLOCK, [_block_row(b) for b in put])
            db.executemany("DELETE FROM domain_blocks WHERE domain = ?", [(d,) for d in remove])

    async def remove_block(self, domain: str) -> bool:
        cursor = self._db.execute("DELETE FROM domain_blocks WHERE domain = ?", (domain,))
        return cursor.rowcount == 1

    async def list_blocks(self) -> list[DomainBlock]:
        """Ordered by domain."""
        rows = self._db.execute(
            "SELECT domain, reason, created_at, severity, by_admin FROM domain_blocks"
            " ORDER BY domain"
        )
        return [
            DomainBlock(
                domain=d,
                reason=reason,
                created_at=at,
                severity=Severity(severity),
                by_admin=bool(by_admin),
            )
            for d, reason, at, severity, by_admin in rows
        ]

    async def is_blocked(self, domain: str) -> bool:
        """Exact match: the policy service decides whether parent domains count."""
        row = self._db.execute(
            "SELECT 1 FROM domain_blocks WHERE domain = ? AND severity = 'suspend'", (domain,)
        )
        return row.fetchone() is not None

    async def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    async def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    async def policy_version(self) -> int:
        """Bumped by the schema's triggers in the transaction of each policy write."""
        return int(self._db.execute("SELECT version FROM policy_version").fetchone()[0])
