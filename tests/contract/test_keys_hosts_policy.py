"""KeyCache, HostStore and PolicyStore contracts."""

from __future__ import annotations

import dataclasses

from federation.ports import Store
from federation.records import DomainBlock, HostHealth, RemoteKey

from .builders import T0

KEY_ID = "https://b.example/actor#main-key"


def _key(pem: str = "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n") -> RemoteKey:
    return RemoteKey(KEY_ID, "https://b.example/actor", pem, T0)


async def test_keys_put_get_replace_delete(store: Store) -> None:
    assert await store.get_key(KEY_ID) is None
    await store.put_key(_key())
    assert await store.get_key(KEY_ID) == _key()

    rotated = dataclasses.replace(_key("rotated"), fetched_at=T0 + 1)
    await store.put_key(rotated)
    assert await store.get_key(KEY_ID) == rotated

    await store.delete_key(KEY_ID)
    assert await store.get_key(KEY_ID) is None
    await store.delete_key(KEY_ID)  # deleting a missing key is not an error


async def test_host_health_round_trips_every_field(store: Store) -> None:
    health = HostHealth(
        host="b.example",
        consecutive_failures=3,
        failure_days=["2023-11-13", "2023-11-14"],
        last_failure_at=T0,
        last_success_at=T0 - 86400,
        circuit_open_until=T0 + 60,
        unavailable=True,
        signature_scheme="rfc9421",
    )
    assert await store.get_host("b.example") is None
    await store.put_host(health)
    assert await store.get_host("b.example") == health

    recovered = HostHealth(host="b.example", last_success_at=T0 + 5)
    await store.put_host(recovered)
    assert await store.get_host("b.example") == recovered


async def test_list_hosts_all_or_unavailable_only(store: Store) -> None:
    healthy = HostHealth(host="b.example")
    broken = HostHealth(host="c.example", unavailable=True, failure_days=["2023-11-14"])
    await store.put_host(healthy)
    await store.put_host(broken)

    assert sorted(await store.list_hosts(), key=lambda h: h.host) == [healthy, broken]
    assert await store.list_hosts(unavailable_only=True) == [broken]


async def test_domain_blocks(store: Store) -> None:
    block = DomainBlock("spam.example", "spam", T0)
    assert not await store.is_blocked("spam.example")
    await store.add_block(block)
    await store.add_block(DomainBlock("other.example", "abuse", T0))

    assert await store.is_blocked("spam.example")
    assert not await store.is_blocked("fine.example")
    assert sorted(await store.list_blocks(), key=lambda b: b.domain) == [
        DomainBlock("other.example", "abuse", T0),
        block,
    ]
    assert await store.remove_block("spam.example")
    assert not await store.is_blocked("spam.example")
    assert not await store.remove_block("spam.example")


async def test_adding_a_block_again_replaces_it(store: Store) -> None:
    await store.add_block(DomainBlock("spam.example", "spam", T0))
    await store.add_block(DomainBlock("spam.example", "worse", T0 + 1))

    assert await store.list_blocks() == [DomainBlock("spam.example", "worse", T0 + 1)]


async def test_settings(store: Store) -> None:
    assert await store.get_setting("mode") is None
    await store.set_setting("mode", "approval")
    await store.set_setting("other", "x")
    await store.set_setting("mode", "allowlist")

    assert await store.get_setting("mode") == "allowlist"
    assert await store.get_setting("other") == "x"
