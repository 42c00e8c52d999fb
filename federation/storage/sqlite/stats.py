"""Per-host, per-minute delivery counters (ports.DeliveryStats) on SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from federation.records import DeliveryCount
from federation.storage.sqlite.base import SqliteBase


class SqliteDeliveryStats(SqliteBase):
    async def add_delivery_counts(self, counts: Sequence[DeliveryCount]) -> None:
        if not counts:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO delivery_counts (host, minute, delivered, failed)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (host, minute) DO UPDATE SET"
                " delivered = delivered + excluded.delivered, failed = failed + excluded.failed",
                [(c.host, c.minute, c.delivered, c.failed) for c in counts],
            )

    async def delivery_counts(self, since: float, host: str | None = None) -> list[DeliveryCount]:
        sql = "SELECT host, minute, delivered, failed FROM delivery_counts WHERE minute >= ?"
        params: list[object] = [since]
        if host is not None:
            sql += " AND host = ?"
            params.append(host)
        rows = self._db.execute(sql + " ORDER BY minute, host", params)
        return [
            DeliveryCount(
                host=r["host"], minute=r["minute"], delivered=r["delivered"], failed=r["failed"]
            )
            for r in rows
        ]

    async def prune_delivery_counts(self, older_than: float) -> int:
        sql = "DELETE FROM delivery_counts WHERE minute < ?"
        return self._db.execute(sql, [older_than]).rowcount

    async def oldest_deliveries(self) -> dict[str, float]:
        # Only deliveries carry a host; the jobs_host index narrows the scan to queued ones.
        rows = self._db.execute(
            "SELECT host, MIN(created_at) AS oldest FROM jobs"
            " WHERE state = 'queued' AND kind = 'deliver' AND host != '' GROUP BY host"
        )
        return {r["host"]: r["oldest"] for r in rows}
