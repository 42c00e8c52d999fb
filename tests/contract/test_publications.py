"""Publications contract: which of our blocks are federated, and under which Create id."""

from __future__ import annotations

import asyncio

from federation.ports import Store
from federation.records import Publication

from .builders import T0


async def test_a_first_publication_is_generation_one(store: Store) -> None:
    got = await store.publish_block("b1", "event:1", T0)
    assert got == Publication(block_id="b1", generation=1, started_by="event:1", published_at=T0)
    assert got.live
    assert await store.publications(["b1", "other"]) == {"b1": got}


async def test_publishing_a_live_block_again_keeps_its_record(store: Store) -> None:
    first = await store.publish_block("b1", "event:1", T0)
    assert await store.publish_block("b1", "event:2", T0 + 5) == first


async def test_public_again_after_a_withdrawal_is_the_next_generation(store: Store) -> None:
    await store.publish_block("b1", "event:1", T0)
    assert await store.withdraw_block("b1", T0 + 1)
    (withdrawn,) = (await store.publications(["b1"])).values()
    assert withdrawn.generation == 1 and withdrawn.withdrawn_at == T0 + 1
    again = await store.publish_block("b1", "event:3", T0 + 2)
    assert again == Publication(
        block_id="b1", generation=2, started_by="event:3", published_at=T0 + 2
    )
    # Retried, the step that began generation 2 reads the same record.
    assert await store.publish_block("b1", "event:3", T0 + 9) == again


async def test_withdrawing_tells_whether_a_delete_is_owed(store: Store) -> None:
    assert not await store.withdraw_block("never", T0)
    assert await store.publications(["never"]) == {}
    await store.publish_block("b1", "event:1", T0)
    assert await store.withdraw_block("b1", T0 + 1)
    # Withdrawn already (a retried job): still owed, and the first withdrawal's time kept.
    assert await store.withdraw_block("b1", T0 + 2)
    assert (await store.publications(["b1"]))["b1"].withdrawn_at == T0 + 1


async def test_racing_publishers_share_one_generation(store: Store) -> None:
    await store.publish_block("b1", "event:1", T0)
    await store.withdraw_block("b1", T0 + 1)
    got = await asyncio.gather(
        *(store.publish_block("b1", f"event:{n}", T0 + 2) for n in range(2, 6))
    )
    assert {p.generation for p in got} == {2}
    assert len({p.started_by for p in got}) == 1


async def test_no_block_ids_no_records(store: Store) -> None:
    await store.publish_block("b1", "event:1", T0)
    assert await store.publications([]) == {}
