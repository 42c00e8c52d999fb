"""Paused delivery per host (ports.HostPauses) on SQLite."""

from __future__ import annotations

from federation.records import HostPause
from federation.storage.sqlite.base import SqliteBase


class SqliteHostPauses(SqliteBase):
    async def pause_host(self, pause: HostPause) -> bool:
        cursor = self._db.execute(
            "INSERT INTO host_pauses (host, reason, paused_at) VALUES (?, ?, ?)"
            " ON CONFLICT (host) DO NOTHING",
            (pause.host, pause.reason, pause.paused_at),
        )
        return cursor.rowcount == 1

    async def resume_host(self, host: str) -> bool:
        cursor = self._db.execute("DELETE FROM host_pauses WHERE host = ?", (host,))
        return cursor.rowcount == 1

    async def paused_hosts(self) -> list[HostPause]:
        rows = self._db.execute("SELECT host, reason, paused_at FROM host_pauses ORDER BY host")
        return [
            HostPause(host=host, reason=reason, paused_at=paused_at)
            for host, reason, paused_at in rows
        ]
