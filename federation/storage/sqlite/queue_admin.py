"""The job queue's admin side (job_ports.JobAdmin) on SQLite: counts, listings, and moving jobs
by an admin's decision. The workers' side (job_ports.JobQueue) is queue.py."""

from __future__ import annotations

from federation.records import Job, JobState
from federation.storage.rows import row_id
from federation.storage.sqlite.base import SqliteBase
from federation.storage.sqlite.queue import COLUMNS, job_from


class SqliteJobAdmin(SqliteBase):
    async def counts(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute("SELECT state, host, COUNT(*) FROM jobs GROUP BY state, host")
        return {(state, host): count for state, host, count in rows}

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        rows = self._db.execute(
            "SELECT kind, state, COUNT(*) FROM jobs WHERE state IN ('queued', 'dead')"
            " GROUP BY kind, state"
        )
        return {(kind, state): count for kind, state, count in rows}

    async def list_jobs(
        self, state: JobState, host: str | None = None, limit: int = 100
    ) -> list[Job]:
        """Most recently updated first."""
        sql = f"SELECT {COLUMNS} FROM jobs WHERE state = ?"  # noqa: S608
        params: list[object] = [state.value]
        if host is not None:
            sql += " AND host = ?"
            params.append(host)
        sql += " ORDER BY updated_at DESC, id DESC LIMIT ?"
        return [job_from(row) for row in self._db.execute(sql, [*params, limit])]

    async def requeue_dead(
        self, now: float, job_id: int | str | None = None, host: str | None = None
    ) -> int:
        sql = (
            "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = ?,"
            " lease_owner = NULL, lease_until = 0, updated_at = ? WHERE state = 'dead'"
        )
        params: list[object] = [now, now]
        if job_id is not None:
            sql += " AND id = ?"
            params.append(row_id(job_id))
        if host is not None:
            sql += " AND host = ?"
            params.append(host)
        return self._db.execute(sql, params).rowcount

    async def retry_queued_now(self, now: float, host: str, job_id: int | str | None = None) -> int:
        sql = (
            "UPDATE jobs SET next_attempt_at = ?, updated_at = ?"
            " WHERE state = 'queued' AND host = ? AND lease_until <= ?"
        )
        params: list[object] = [now, now, host, now]
        if job_id is not None:
            sql += " AND id = ?"
            params.append(row_id(job_id))
        return self._db.execute(sql, params).rowcount

    async def drop_queued_for_host(self, host: str, now: float) -> int:
        sql = (
            "UPDATE jobs SET state = 'dead', last_error = 'dropped', lease_owner = NULL,"
            " lease_until = 0, updated_at = ? WHERE host = ? AND state = 'queued'"
        )
        return self._db.execute(sql, [now, host]).rowcount
