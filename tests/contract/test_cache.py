"""ObjectCache contract."""

from __future__ import annotations

import dataclasses

from federation.ports import Store
from federation.records import CacheState

from .builders import T0, cached


async def test_put_then_get_by_urn_and_by_url(store: Store) -> None:
    obj = cached("42")
    await store.put_cached(obj)

    assert await store.get_cached(obj.urn) == obj
    assert await store.get_cached_by_url(obj.url) == obj
    assert await store.get_cached("urn:block:b.example:43") is None
    assert await store.get_cached_by_url("https://b.example/blocks/43") is None


async def test_the_origin_signed_copy_round_trips_exactly(store: Store) -> None:
    """Byte-level fidelity matters: a proof verifies only over the very JSON values signed."""
    signed = {
        "@context": ["https://www.w3.org/ns/activitystreams", {"urn": "https://x.example/ns#urn"}],
        "id": "https://b.example/blocks/42",
        "content": "caf\u00e9 \U0001f600 $where a.b",
        "n": [1, 2.5, None, True],
        "proof": {"type": "DataIntegrityProof", "proofValue": "z3sX"},
    }
    obj = dataclasses.replace(cached("42"), signed=signed)
    await store.put_cached(obj)
    assert await store.get_cached(obj.urn) == obj
    unsigned = cached("43")
    await store.put_cached(unsigned)
    got = await store.get_cached(unsigned.urn)
    assert got is not None and got.signed is None


async def test_negative_entries_round_trip(store: Store) -> None:
    for state in (CacheState.FAILED, CacheState.GONE):
        obj = cached(state.value, state=state)
        await store.put_cached(obj)
        assert await store.get_cached(obj.urn) == obj


async def test_put_replaces_by_urn(store: Store) -> None:
    first = cached("42")
    refreshed = dataclasses.replace(
        first, block={"id": "42", "title": "v2"}, etag='"v2"', fetched_at=T0 + 60
    )
    await store.put_cached(first)
    await store.put_cached(refreshed)

    assert await store.get_cached(first.urn) == refreshed
    assert await store.get_cached_by_url(first.url) == refreshed
    assert await store.count_cached() == 1


async def test_delete_cached(store: Store) -> None:
    obj = cached("42")
    await store.put_cached(obj)

    assert await store.delete_cached(obj.urn)
    assert await store.get_cached(obj.urn) is None
    assert not await store.delete_cached(obj.urn)


async def test_purge_domain_and_count(store: Store) -> None:
    for local_id in ("1", "2", "3"):
        await store.put_cached(cached(local_id, domain="b.example"))
    kept = cached("1", domain="c.example")
    await store.put_cached(kept)
    assert await store.count_cached() == 4

    assert await store.purge_cached_domain("b.example") == 3
    assert await store.count_cached() == 1
    assert await store.get_cached(kept.urn) == kept
    assert await store.purge_cached_domain("b.example") == 0
