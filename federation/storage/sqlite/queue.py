"""The durable job queue as the workers use it (job_ports.JobQueue) on SQLite: enqueue, claim,
finishing a job, and the runner's housekeeping; the admin side is queue_admin.py.

A job is QUEUED until done or dead; a worker leases it by setting lease_owner and
lease_until. A lease that expires (its worker died) makes the job claimable again, and only
the current lease holder may complete, retry, fail or defer it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from federation.records import Job, JobState, NewJob
from federation.storage.rows import record_from, row_id
from federation.storage.sqlite.base import SqliteBase, dump_json, load_json

COLUMNS = (
    "id, kind, dedupe_key, payload, host, state, attempts, next_attempt_at, lease_owner,"
    " lease_until, last_error, created_at, updated_at"
)
_INSERT = (
    "INSERT OR IGNORE INTO jobs (kind, dedupe_key, payload, host, next_attempt_at,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# Finishing a job: only its lease holder may, and only while it is still QUEUED.
_HELD = "WHERE id = ? AND lease_owner = ? AND state = 'queued'"
_UNLEASE = "lease_owner = NULL, lease_until = 0, updated_at = ?"
_RELEASE = f"{_UNLEASE}, attempts = attempts + 1"  # ends an attempt: counted


def job_from(row: sqlite3.Row) -> Job:
    return record_from(Job, row, payload=load_json(row["payload"]), state=JobState(row["state"]))


def _insert_row(job: NewJob, now: float) -> tuple[object, ...]:
    return (job.kind, job.dedupe_key, dump_json(job.payload), job.host, job.run_at or now, now, now)


def _claim_sql(kinds: Sequence[str] | None, exclude_hosts: Sequence[str]) -> str:
    filters = ""
    if kinds is not None:
        filters += f" AND kind IN ({', '.join('?' * len(kinds))})"
    if exclude_hosts:
        filters += f" AND host NOT IN ({', '.join('?' * len(exclude_hosts))})"
    # Only placeholders are formatted into the statement.
    return (
        "UPDATE jobs SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE id IN ("  # noqa: S608
        "SELECT id FROM jobs WHERE state = 'queued' AND next_attempt_at <= ?"
        # The index gives ties in (lease_until, id) order, i.e. enqueue order, so LIMIT stops
        # early; "ORDER BY next_attempt_at, id" would sort a whole same-instant fan-out.
        f" AND lease_until <= ?{filters} ORDER BY next_attempt_at LIMIT ?)"
        f" RETURNING {COLUMNS}"
    )


class SqliteJobQueue(SqliteBase):
    async def enqueue(self, jobs: Sequence[NewJob], now: float) -> int:
        rows = [_insert_row(job, now) for job in jobs]
        if not rows:
            return 0
        with self._write() as db:
            before = db.total_changes
            db.executemany(_INSERT, rows)
            return db.total_changes - before

    async def enqueue_each(self, jobs: Sequence[NewJob], now: float) -> list[bool]:
        if not jobs:
            return []
        with self._write() as db:
            # One statement per job, so each rowcount says whether that job went in; a key
            # repeated within the batch is ignored like any existing one.
            return [db.execute(_INSERT, _insert_row(job, now)).rowcount == 1 for job in jobs]

    async def claim(
        self,
        owner: str,
        now: float,
        lease_seconds: float,
        limit: int,
        kinds: Sequence[str] | None = None,
        exclude_hosts: Sequence[str] = (),
    ) -> list[Job]:
        if limit <= 0 or (kinds is not None and not kinds):
            return []
        params = [owner, now + lease_seconds, now, now, now, *(kinds or ()), *exclude_hosts]
        # Select and lease in one IMMEDIATE transaction: no other connection (or process)
        # can claim between our read and our write.
        with self._write() as db:
            rows = db.execute(_claim_sql(kinds, exclude_hosts), [*params, limit]).fetchall()
        jobs = [job_from(row) for row in rows]
        jobs.sort(key=lambda j: (j.next_attempt_at, j.id))  # RETURNING has no order
        return jobs

    async def renew_leases(
        self, job_ids: Sequence[int | str], owner: str, lease_until: float, now: float
    ) -> int:
        rows = [(lease_until, now, key, owner) for key in map(row_id, job_ids)]
        held = [row for row in rows if row[2] is not None]
        if not held:
            return 0
        sql = f"UPDATE jobs SET lease_until = ?, updated_at = ? {_HELD}"  # noqa: S608
        with self._write() as db:  # one transaction, one COMMIT, however many jobs
            before = db.total_changes
            db.executemany(sql, held)
            return db.total_changes - before

    async def complete_many(self, items: Sequence[tuple[int | str, str]], now: float) -> int:
        held = [(row_id(job_id), owner) for job_id, owner in items]
        rows = [(now, key, owner) for key, owner in held if key is not None]
        if not rows:
            return 0
        sql = f"UPDATE jobs SET state = 'done', {_RELEASE} {_HELD}"  # noqa: S608
        # One transaction, one COMMIT (the WAL write that dominates a small write's cost).
        with self._write() as db:
            before = db.total_changes
            db.executemany(sql, rows)
            return db.total_changes - before

    async def retry(
        self, job_id: int | str, owner: str, next_attempt_at: float, error: str, now: float
    ) -> bool:
        sql = f"UPDATE jobs SET next_attempt_at = ?, last_error = ?, {_RELEASE} {_HELD}"  # noqa: S608
        return self._finish(sql, [next_attempt_at, error, now], job_id, owner)

    async def fail(self, job_id: int | str, owner: str, error: str, now: float) -> bool:
        sql = f"UPDATE jobs SET state = 'dead', last_error = ?, {_RELEASE} {_HELD}"  # noqa: S608
        return self._finish(sql, [error, now], job_id, owner)

    async def defer(
        self, job_id: int | str, owner: str, next_attempt_at: float, now: float
    ) -> bool:
        sql = f"UPDATE jobs SET next_attempt_at = ?, {_UNLEASE} {_HELD}"  # noqa: S608
        return self._finish(sql, [next_attempt_at, now], job_id, owner)

    def _finish(self, sql: str, values: list[object], job_id: int | str, owner: str) -> bool:
        key = row_id(job_id)
        if key is None:
            return False
        return self._db.execute(sql, [*values, key, owner]).rowcount == 1

    async def release_all_leases(self, now: float) -> int:
        sql = f"UPDATE jobs SET {_UNLEASE} WHERE state = 'queued' AND lease_owner IS NOT NULL"  # noqa: S608
        return self._db.execute(sql, [now]).rowcount

    async def next_due_at(self) -> float | None:
        # min(max(next_attempt_at, lease_until)) without scanning every queued job: unleased
        # jobs are read in index order until the first hit; leased ones from their own index.
        unleased = self._db.execute(
            "SELECT next_attempt_at FROM jobs WHERE state = 'queued'"
            " AND lease_until <= next_attempt_at ORDER BY next_attempt_at LIMIT 1"
        ).fetchone()
        leased = self._db.execute(
            "SELECT MIN(lease_until) FROM jobs INDEXED BY jobs_leased"
            " WHERE state = 'queued' AND lease_until > 0"
            " AND lease_until > next_attempt_at"
        ).fetchone()
        times = [r[0] for r in (unleased, leased) if r is not None and r[0] is not None]
        return min(times) if times else None

    async def prune_done(self, older_than: float) -> int:
        sql = "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?"
        return self._db.execute(sql, [older_than]).rowcount
