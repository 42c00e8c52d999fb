"""Follow relations (ports.FollowStore) on SQLite."""

from __future__ import annotations

import sqlite3

from federation.hosts import host_key
from federation.records import Direction, Follow, FollowState
from federation.storage.rows import record_from
from federation.storage.sqlite.base import SqliteBase

_COLUMNS = "direction, actor, domain, inbox, shared_inbox, state, follow_id, created_at, updated_at"


def _follow(row: sqlite3.Row) -> Follow:
    return record_from(
        Follow, row, direction=Direction(row["direction"]), state=FollowState(row["state"])
    )


class SqliteFollows(SqliteBase):
    async def put_follow(self, follow: Follow) -> None:
        self._db.execute(
            f"INSERT OR REPLACE INTO follows ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                follow.direction.value,
                follow.actor,
                follow.domain,
                follow.inbox,
                follow.shared_inbox,
                follow.state.value,
                follow.follow_id,
                follow.created_at,
                follow.updated_at,
            ),
        )

    async def get_follow(self, direction: Direction, actor: str) -> Follow | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM follows WHERE direction = ? AND actor = ?",  # noqa: S608
            (direction.value, actor),
        ).fetchone()
        return None if row is None else _follow(row)

    async def list_follows(
        self, direction: Direction, state: FollowState | None = None
    ) -> list[Follow]:
        """Ordered by actor."""
        sql = f"SELECT {_COLUMNS} FROM follows WHERE direction = ?"  # noqa: S608
        params = [direction.value]
        if state is not None:
            sql += " AND state = ?"
            params.append(state.value)
        return [_follow(row) for row in self._db.execute(sql + " ORDER BY actor", params)]

    async def set_follow_state(
        self, direction: Direction, actor: str, state: FollowState, now: float
    ) -> bool:
        cursor = self._db.execute(
            "UPDATE follows SET state = ?, updated_at = ? WHERE direction = ? AND actor = ?",
            (state.value, now, direction.value, actor),
        )
        return cursor.rowcount == 1

    async def delete_follow(self, direction: Direction, actor: str) -> bool:
        cursor = self._db.execute(
            "DELETE FROM follows WHERE direction = ? AND actor = ?", (direction.value, actor)
        )
        return cursor.rowcount == 1

    async def delivery_inboxes(self) -> list[tuple[str, str]]:
        """Sorted by inbox URL."""
        rows = self._db.execute(
            "SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM follows"
            " WHERE direction = ? AND state = ? ORDER BY 1",
            (Direction.FOLLOWER.value, FollowState.ACCEPTED.value),
        )
        return [(inbox, host_key(inbox)) for (inbox,) in rows]
