"""Followers written straight into a gateway's SQLite store before it starts: the fan-out
benches' audience, on receiving hosts at 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from federation.records import Direction, Follow, FollowState
from federation.storage.sqlite import SqliteStore


def followers(
    ports: list[int], per_host: int, now: float, *, shared_inbox: bool = False
) -> list[Follow]:
    """`per_host` accepted followers on each host at `ports`, each with a personal inbox, and
    with the host's shared inbox too when `shared_inbox` (one POST per host, not per follower)."""
    return [
        Follow(
            direction=Direction.FOLLOWER,
            actor=f"http://127.0.0.1:{port}/users/{n}",
            domain=f"127.0.0.1:{port}",
            inbox=f"http://127.0.0.1:{port}/users/{n}/inbox",
            shared_inbox=f"http://127.0.0.1:{port}/inbox" if shared_inbox else None,
            state=FollowState.ACCEPTED,
            follow_id=f"http://127.0.0.1:{port}/follows/{n}",
            created_at=now,
            updated_at=now,
        )
        for port in ports
        for n in range(per_host)
    ]


@contextmanager
def one_transaction(store: SqliteStore) -> Iterator[None]:
    """The store's writes inside run as one transaction: 100k autocommits take minutes."""
    db = store._db  # our own adapter's connection: the port has no bulk write
    db.execute("BEGIN")
    yield
    db.execute("COMMIT")


async def put_follows(store: SqliteStore, follows: Iterable[Follow]) -> None:
    with one_transaction(store):
        for follow in follows:
            await store.put_follow(follow)
