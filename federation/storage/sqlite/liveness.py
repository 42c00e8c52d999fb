"""Runner heartbeats (job_ports.Liveness) on SQLite: one row per owner in `runners`.

release_stale runs in one IMMEDIATE transaction, so no beat or claim interleaves with it. The
leased jobs it reads come from the partial index jobs_leased (only jobs in flight), never
from a scan of the whole table.
"""

from __future__ import annotations

from federation.storage.sqlite.base import SqliteBase

_BEAT = (
    "INSERT INTO runners (owner, beat_at) VALUES (?, ?)"
    " ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at"
)
_STALE = "SELECT owner FROM runners WHERE beat_at < ?"
# An owner's jobs it claimed or renewed since `stale_before` stay its own: it is writing.
_RELEASE = (
    "UPDATE jobs INDEXED BY jobs_leased SET lease_owner = NULL, lease_until = 0, updated_at = ?"
    " WHERE state = 'queued' AND lease_until > 0 AND lease_owner = ? AND updated_at < ?"
)
_FORGET = (
    "DELETE FROM runners WHERE owner = ? AND NOT EXISTS (SELECT 1 FROM jobs INDEXED BY"
    " jobs_leased WHERE state = 'queued' AND lease_until > 0 AND lease_owner = ?)"
)


class SqliteLiveness(SqliteBase):
    async def beat(self, owner: str, now: float) -> float | None:
        with self._write() as db:
            row = db.execute("SELECT beat_at FROM runners WHERE owner = ?", [owner]).fetchone()
            db.execute(_BEAT, [owner, now])
        return None if row is None else float(row[0])

    async def release_stale(self, stale_before: float, now: float) -> int:
        db = self._db
        if db.execute(_STALE + " LIMIT 1", [stale_before]).fetchone() is None:
            return 0  # the usual case: one read, no write lock taken
        with self._write() as db:
            owners = [row[0] for row in db.execute(_STALE, [stale_before])]
            released = 0
            for owner in owners:
                released += db.execute(_RELEASE, [now, owner, stale_before]).rowcount
                db.execute(_FORGET, [owner, owner])
        return released
