"""The reference backend's SQLite store: blocks, the event outbox, and what the gateway sent us.

Calls are synchronous on purpose: each is one short local transaction, and running them on the
event-loop thread serialises writes, so the outbox order is exactly the commit order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from federation.backend.contract import (
    BackendBlock,
    BlockEvent,
    FollowChange,
    InboundNotification,
    NotificationType,
    RemoteBlock,
    Visibility,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order: the paging key
    id TEXT NOT NULL UNIQUE,
    visibility TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    reported_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE reported_at IS NULL;
CREATE TABLE IF NOT EXISTS remote_blocks (
    urn TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS follows (
    actor TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    changed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS inbound_seen (
    id TEXT PRIMARY KEY,
    received_at REAL NOT NULL
);
"""

_FEDERATED = (Visibility.PUBLIC.value, Visibility.EMBARGOED.value)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    event: BlockEvent
    attempts: int


@dataclass(frozen=True, slots=True)
class BlockSlice:
    items: list[BackendBlock]
    last_seq: int | None  # seq of the last item, to build the next cursor
    has_more: bool


class BackendStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                self._db.execute(sql, params)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- blocks -------------------------------------------------------------------------------

    def get_block(self, block_id: str) -> BackendBlock | None:
        row = self._db.execute("SELECT body FROM blocks WHERE id = ?", (block_id,)).fetchone()
        return None if row is None else BackendBlock.model_validate_json(row[0])

    def list_blocks(self, after_seq: int, limit: int, federated: bool) -> BlockSlice:
        sql = "SELECT seq, body FROM blocks WHERE seq > ?"
        params: list[Any] = [after_seq]
        if federated:
            sql += " AND visibility IN (?, ?)"
            params.extend(_FEDERATED)
        rows = self._db.execute(f"{sql} ORDER BY seq LIMIT ?", (*params, limit + 1)).fetchall()
        page = rows[:limit]
        return BlockSlice(
            items=[BackendBlock.model_validate_json(body) for _, body in page],
            last_seq=page[-1][0] if page else None,
            has_more=len(rows) > limit,
        )

    def insert_block(self, block: BackendBlock, event: BlockEvent, now: float) -> bool:
        """Store a new block and its event atomically; False when the id is taken."""
        try:
            self._write(
                [
                    (
                        "INSERT INTO blocks (id, visibility, body) VALUES (?, ?, ?)",
                        (block.id, block.visibility.value, block.model_dump_json()),
                    ),
                    _outbox_insert(event, now),
                ]
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def replace_block(self, block: BackendBlock, event: BlockEvent, now: float) -> None:
        self._write(
            [
                (
                    "UPDATE blocks SET visibility = ?, body = ? WHERE id = ?",
                    (block.visibility.value, block.model_dump_json(), block.id),
                ),
                _outbox_insert(event, now),
            ]
        )

    def delete_block(self, block_id: str, event: BlockEvent, now: float) -> None:
        self._write([("DELETE FROM blocks WHERE id = ?", (block_id,)), _outbox_insert(event, now)])

    # -- outbox -------------------------------------------------------------------------------

    def pending_events(self, limit: int) -> list[OutboxEntry]:
        rows = self._db.execute(
            "SELECT seq, body, attempts FROM outbox WHERE reported_at IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [OutboxEntry(s, BlockEvent.model_validate_json(b), a) for s, b, a in rows]

    def mark_reported(self, seq: int, now: float, error: str | None = None) -> None:
        self._db.execute(
            "UPDATE outbox SET reported_at = ?, attempts = attempts + 1, last_error = ? "
            "WHERE seq = ?",
            (now, error, seq),
        )

    def note_failure(self, seq: int, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            (error, seq),
        )

    def count_pending(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE reported_at IS NULL").fetchone()
        return int(row[0])

    # -- what the gateway sends ---------------------------------------------------------------

    def apply_inbound(self, note: InboundNotification, now: float) -> bool:
        """Apply a notification once; False (and nothing changed) when its id was seen."""
        seen = self._db.execute("SELECT 1 FROM inbound_seen WHERE id = ?", (note.id,)).fetchone()
        if seen is not None:
            return False
        statements = [("INSERT INTO inbound_seen (id, received_at) VALUES (?, ?)", (note.id, now))]
        statements.extend(_inbound_statements(note, now))
        self._write(statements)
        return True

    def list_remote_blocks(self) -> list[RemoteBlock]:
        rows = self._db.execute("SELECT body FROM remote_blocks ORDER BY urn").fetchall()
        return [RemoteBlock.model_validate_json(body) for (body,) in rows]

    def get_remote_block(self, urn: str) -> RemoteBlock | None:
        row = self._db.execute("SELECT body FROM remote_blocks WHERE urn = ?", (urn,)).fetchone()
        return None if row is None else RemoteBlock.model_validate_json(row[0])

    def list_follows(self) -> list[FollowChange]:
        rows = self._db.execute("SELECT body FROM follows ORDER BY actor").fetchall()
        return [FollowChange.model_validate_json(body) for (body,) in rows]


def _outbox_insert(event: BlockEvent, now: float) -> tuple[str, tuple[Any, ...]]:
    return (
        "INSERT INTO outbox (event_id, body, created_at) VALUES (?, ?, ?)",
        (event.event_id, event.model_dump_json(), now),
    )


def _inbound_statements(note: InboundNotification, now: float) -> list[tuple[str, tuple[Any, ...]]]:
    if note.type is NotificationType.REMOTE_BLOCK_UPSERT and note.block is not None:
        # Retries can reorder notifications: never let an older version replace a newer one.
        # (Fixed-width ISO strings in UTC compare correctly as text.)
        updated = note.block.updated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return [
            (
                "INSERT INTO remote_blocks (urn, body, updated_at, received_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (urn) DO UPDATE SET body = excluded.body, "
                "updated_at = excluded.updated_at, received_at = excluded.received_at "
                "WHERE excluded.updated_at >= remote_blocks.updated_at",
                (note.urn, note.block.model_dump_json(), updated, now),
            )
        ]
    if note.type is NotificationType.REMOTE_BLOCK_DELETE:
        return [("DELETE FROM remote_blocks WHERE urn = ?", (note.urn,))]
    if note.follow is not None:
        return [
            (
                "INSERT INTO follows (actor, body, changed_at) VALUES (?, ?, ?) "
                "ON CONFLICT (actor) DO UPDATE SET body = excluded.body, "
                "changed_at = excluded.changed_at",
                (note.follow.actor, json.dumps(note.follow.model_dump(mode="json")), now),
            )
        ]
    return []
