"""Host delivery health (ports.HostStore) and domain policy (ports.PolicyStore) on SQLite."""

from __future__ import annotations

import sqlite3

from federation.records import DomainBlock, HostHealth
from federation.storage.sqlite.base import SqliteBase, dump_json, load_json

_HOST_COLUMNS = (
    "host, consecutive_failures, failure_days, last_failure_at, last_success_at,"
    " circuit_open_until, unavailable, signature_scheme"
)


def _health(row: sqlite3.Row) -> HostHealth:
    return HostHealth(
        host=row["host"],
        consecutive_failures=row["consecutive_failures"],
        failure_days=list(load_json(row["failure_days"])),
        last_failure_at=row["last_failure_at"],
        last_success_at=row["last_success_at"],
        circuit_open_until=row["circuit_open_until"],
        unavailable=bool(row["unavailable"]),
        signature_scheme=row["signature_scheme"],
    )


class SqliteHostStore(SqliteBase):
    async def get_host(self, host: str) -> HostHealth | None:
        sql = f"SELECT {_HOST_COLUMNS} FROM host_health WHERE host = ?"  # noqa: S608
        row = self._db.execute(sql, (host,)).fetchone()
        return None if row is None else _health(row)

    async def put_host(self, health: HostHealth) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO host_health ({_HOST_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                health.host,
                health.consecutive_failures,
                dump_json(health.failure_days),
                health.last_failure_at,
                health.last_success_at,
                health.circuit_open_until,
                int(health.unavailable),
                health.signature_scheme,
            ),
        )

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]:
        """Ordered by host."""
        where = " WHERE unavailable = 1" if unavailable_only else ""
        sql = f"SELECT {_HOST_COLUMNS} FROM host_health{where} ORDER BY host"  # noqa: S608
        return [_health(row) for row in self._db.execute(sql)]


class SqlitePolicyStore(SqliteBase):
    async def add_block(self, block: DomainBlock) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO domain_blocks (domain, reason, created_at) VALUES (?, ?, ?)",
            (block.domain, block.reason, block.created_at),
        )

    async def remove_block(self, domain: str) -> bool:
        cursor = self._db.execute("DELETE FROM domain_blocks WHERE domain = ?", (domain,))
        return cursor.rowcount == 1

    async def list_blocks(self) -> list[DomainBlock]:
        """Ordered by domain."""
        rows = self._db.execute(
            "SELECT domain, reason, created_at FROM domain_blocks ORDER BY domain"
        )
        return [DomainBlock(domain, reason, created_at) for domain, reason, created_at in rows]

    async def is_blocked(self, domain: str) -> bool:
        """Exact match: the policy service decides whether parent domains count."""
        row = self._db.execute("SELECT 1 FROM domain_blocks WHERE domain = ?", (domain,))
        return row.fetchone() is not None

    async def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    async def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
