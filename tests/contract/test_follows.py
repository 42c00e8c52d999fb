"""FollowStore contract."""

from __future__ import annotations

import dataclasses

from federation.ports import Store
from federation.records import Direction, FollowState

from .builders import T0, follow

FOLLOWER, FOLLOWING = Direction.FOLLOWER, Direction.FOLLOWING


async def test_put_then_get_returns_the_same_follow(store: Store) -> None:
    relation = follow("b.example", shared_inbox="https://b.example/inbox")
    await store.put_follow(relation)

    assert await store.get_follow(FOLLOWER, relation.actor) == relation
    assert await store.get_follow(FOLLOWING, relation.actor) is None
    assert await store.get_follow(FOLLOWER, "https://b.example/nobody") is None


async def test_put_replaces_the_relation_with_the_same_direction_and_actor(store: Store) -> None:
    pending = follow("b.example", state=FollowState.PENDING)
    accepted = dataclasses.replace(pending, state=FollowState.ACCEPTED, updated_at=T0 + 5)
    await store.put_follow(pending)
    await store.put_follow(accepted)

    assert await store.list_follows(FOLLOWER) == [accepted]


async def test_both_directions_coexist_for_one_actor(store: Store) -> None:
    theirs = follow("b.example", direction=FOLLOWER)
    ours = follow("b.example", direction=FOLLOWING, state=FollowState.PENDING)
    await store.put_follow(theirs)
    await store.put_follow(ours)

    assert await store.get_follow(FOLLOWER, theirs.actor) == theirs
    assert await store.get_follow(FOLLOWING, ours.actor) == ours


async def test_list_follows_by_direction_and_state(store: Store) -> None:
    accepted = follow("b.example")
    pending = follow("c.example", state=FollowState.PENDING)
    ours = follow("d.example", direction=FOLLOWING)
    for relation in (accepted, pending, ours):
        await store.put_follow(relation)

    assert sorted(f.actor for f in await store.list_follows(FOLLOWER)) == sorted(
        [accepted.actor, pending.actor]
    )
    assert await store.list_follows(FOLLOWER, FollowState.PENDING) == [pending]
    assert await store.list_follows(FOLLOWING) == [ours]
    assert await store.list_follows(FOLLOWING, FollowState.REJECTED) == []


async def test_set_follow_state_changes_state_and_time(store: Store) -> None:
    relation = follow("b.example", direction=FOLLOWING, state=FollowState.PENDING)
    await store.put_follow(relation)

    assert await store.set_follow_state(FOLLOWING, relation.actor, FollowState.ACCEPTED, T0 + 9)
    changed = await store.get_follow(FOLLOWING, relation.actor)
    assert changed == dataclasses.replace(relation, state=FollowState.ACCEPTED, updated_at=T0 + 9)
    assert not await store.set_follow_state(FOLLOWER, relation.actor, FollowState.ACCEPTED, T0)
    assert not await store.set_follow_state(FOLLOWING, "https://x/y", FollowState.UNDONE, T0)


async def test_delete_follow_forgets_one_direction_of_one_actor(store: Store) -> None:
    theirs = follow("b.example")
    ours = follow("b.example", direction=FOLLOWING)
    other = follow("b.example", name="other")
    for relation in (theirs, ours, other):
        await store.put_follow(relation)

    assert await store.delete_follow(FOLLOWER, theirs.actor)
    assert await store.list_follows(FOLLOWER) == [other]
    assert await store.list_follows(FOLLOWING) == [ours]
    assert not await store.delete_follow(FOLLOWER, theirs.actor)


async def test_delivery_inboxes_collapse_shared_inboxes(store: Store) -> None:
    shared = "https://b.example/inbox"
    for name in ("ann", "bob", "cat"):
        await store.put_follow(follow("b.example", name=name, shared_inbox=shared))
    await store.put_follow(follow("C.Example:8443", name="dan"))  # no shared inbox

    assert sorted(await store.delivery_inboxes()) == [
        ("https://C.Example:8443/dan/inbox", "c.example:8443"),
        (shared, "b.example"),
    ]


async def test_delivery_inboxes_only_of_accepted_followers(store: Store) -> None:
    await store.put_follow(follow("b.example", state=FollowState.PENDING))
    await store.put_follow(follow("c.example", state=FollowState.REJECTED))
    await store.put_follow(follow("d.example", state=FollowState.UNDONE))
    await store.put_follow(follow("e.example", direction=FOLLOWING))
    assert await store.delivery_inboxes() == []

    await store.put_follow(follow("f.example"))
    assert await store.delivery_inboxes() == [("https://f.example/actor/inbox", "f.example")]
