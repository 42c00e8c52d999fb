"""ObjectCache contract."""

from __future__ import annotations

import dataclasses

from federation.ports import Store
from federation.records import CacheState

from .builders import T0, cached


async def test_put_then_get_by_urn(store: Store) -> None:
    obj = cached("42")
    await store.put_cached(obj)

    assert await store.get_cached(obj.urn) == obj
    assert await store.get_cached("urn:block:b.example:43") is None


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
    assert await store.purge_cached_domain(first.domain) == 1  # one entry, replaced


async def test_delete_cached(store: Store) -> None:
    obj = cached("42")
    await store.put_cached(obj)

    assert await store.delete_cached(obj.urn)
    assert await store.get_cached(obj.urn) is None
    assert not await store.delete_cached(obj.urn)


async def test_purge_domain(store: Store) -> None:
    purged = [cached(local_id, domain="b.example") for local_id in ("1", "2", "3")]
    kept = cached("1", domain="c.example")
    for obj in (*purged, kept):
        await store.put_cached(obj)

    assert await store.purge_cached_domain("b.example") == 3
    assert [await store.get_cached(obj.urn) for obj in purged] == [None, None, None]
    assert await store.get_cached(kept.urn) == kept
    assert await store.purge_cached_domain("b.example") == 0
    assert await store.purge_cached_domain("c.example") == 1
