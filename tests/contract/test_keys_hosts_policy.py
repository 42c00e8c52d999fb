"""KeyCache, HostStore and PolicyStore contracts."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from federation.ports import Store
from federation.records import DomainBlock, HostFailure, HostHealth, RemoteKey

from .builders import T0

DAY = 86400.0

KEY_ID = "https://b.example/actor#main-key"


def _key(pem: str = "-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n") -> RemoteKey:
    return RemoteKey(
        key_id=KEY_ID, owner="https://b.example/actor", public_key_pem=pem, fetched_at=T0
    )


async def test_keys_put_get_replace(store: Store) -> None:
    assert await store.get_key(KEY_ID) is None
    await store.put_key(_key())
    assert await store.get_key(KEY_ID) == _key()

    rotated = dataclasses.replace(_key("rotated"), fetched_at=T0 + 1)
    await store.put_key(rotated)
    assert await store.get_key(KEY_ID) == rotated


def _failure(at: float, *, threshold: int = 3, days: int = 2) -> HostFailure:
    day = datetime.fromtimestamp(at, UTC).date().isoformat()
    return HostFailure(
        at=at,
        day=day,
        breaker_threshold=threshold,
        breaker_open_seconds=60.0,
        unavailable_after_days=days,
    )


async def test_a_first_failure_creates_the_record(store: Store) -> None:
    assert await store.get_host("b.example") is None
    after = await store.record_failure("b.example", _failure(T0))
    assert after == HostHealth(
        host="b.example",
        consecutive_failures=1,
        failure_days=["2023-11-14"],
        last_failure_at=T0,
    )
    assert await store.get_host("b.example") == after


async def test_failures_count_open_the_breaker_and_make_the_host_unavailable(
    store: Store,
) -> None:
    for i in range(3):
        after = await store.record_failure("b.example", _failure(T0 + i))
    assert after.consecutive_failures == 3
    assert after.circuit_open_until == T0 + 2 + 60.0  # the threshold was reached
    assert after.failure_days == ["2023-11-14"] and not after.unavailable  # one day
    for day in (1, 2):
        after = await store.record_failure("b.example", _failure(T0 + day * DAY))
    assert after.failure_days == ["2023-11-15", "2023-11-16"]  # the newest two kept
    assert after.unavailable
    assert await store.get_host("b.example") == after
    assert await store.list_hosts(unavailable_only=True) == [after]


async def test_a_success_forgets_failures_but_keeps_the_scheme(store: Store) -> None:
    await store.set_signature_scheme("b.example", "rfc9421")
    for i in range(3):
        await store.record_failure("b.example", _failure(T0 + i * DAY))
    await store.record_success("b.example", T0 + 5 * DAY)
    assert await store.get_host("b.example") == HostHealth(
        host="b.example",
        last_failure_at=T0 + 2 * DAY,
        last_success_at=T0 + 5 * DAY,
        signature_scheme="rfc9421",
    )


async def test_each_field_write_leaves_the_others(store: Store) -> None:
    opened = await store.record_failure("b.example", _failure(T0, threshold=1, days=1))
    await store.set_signature_scheme("b.example", "rfc9421")
    assert await store.get_host("b.example") == dataclasses.replace(
        opened, signature_scheme="rfc9421"
    )
    # Below both thresholds now: the breaker and the verdict stay as the first failure left them.
    after = await store.record_failure("b.example", _failure(T0 + 1, threshold=9, days=9))
    assert after == HostHealth(
        host="b.example",
        consecutive_failures=2,
        failure_days=["2023-11-14"],
        last_failure_at=T0 + 1,
        circuit_open_until=T0 + 60.0,
        unavailable=True,
        signature_scheme="rfc9421",
    )


async def test_field_writes_create_missing_records(store: Store) -> None:
    await store.set_signature_scheme("a.example", "cavage")
    await store.record_failure("b.example", _failure(T0, threshold=1, days=9))
    await store.record_failure("c.example", _failure(T0, threshold=9, days=1))
    await store.record_success("d.example", T0)
    failed = HostHealth(
        host="", consecutive_failures=1, failure_days=["2023-11-14"], last_failure_at=T0
    )
    unavailable = dataclasses.replace(failed, host="c.example", unavailable=True)
    assert await store.list_hosts() == [
        HostHealth(host="a.example", signature_scheme="cavage"),
        dataclasses.replace(failed, host="b.example", circuit_open_until=T0 + 60.0),
        unavailable,
        HostHealth(host="d.example", last_success_at=T0),
    ]
    assert await store.list_hosts(unavailable_only=True) == [unavailable]


async def test_reset_clears_failures_and_keeps_what_was_learned(store: Store) -> None:
    assert await store.reset_host("b.example") is None
    assert await store.get_host("b.example") is None  # nothing created
    await store.set_signature_scheme("b.example", "rfc9421")
    for i in range(3):
        await store.record_failure("b.example", _failure(T0 + i * DAY))
    reset = await store.reset_host("b.example")
    assert reset == HostHealth(
        host="b.example", last_failure_at=T0 + 2 * DAY, signature_scheme="rfc9421"
    )
    assert await store.get_host("b.example") == reset


async def test_concurrent_failures_add_up(store: Store) -> None:
    """Many writers at once (one process here; tests/integration/test_multiworker.py runs
    two processes): no increment is lost and the learned scheme survives."""
    await store.set_signature_scheme("b.example", "rfc9421")
    await asyncio.gather(
        *(store.record_failure("b.example", _failure(T0, threshold=1000)) for _ in range(50))
    )
    stored = await store.get_host("b.example")
    assert stored is not None
    assert stored.consecutive_failures == 50
    assert stored.signature_scheme == "rfc9421"


async def test_domain_blocks(store: Store) -> None:
    block = DomainBlock(domain="spam.example", reason="spam", created_at=T0)
    assert not await store.is_blocked("spam.example")
    await store.add_block(block)
    await store.add_block(DomainBlock(domain="other.example", reason="abuse", created_at=T0))

    assert await store.is_blocked("spam.example")
    assert not await store.is_blocked("fine.example")
    assert sorted(await store.list_blocks(), key=lambda b: b.domain) == [
        DomainBlock(domain="other.example", reason="abuse", created_at=T0),
        block,
    ]
    assert await store.remove_block("spam.example")
    assert not await store.is_blocked("spam.example")
    assert not await store.remove_block("spam.example")


async def test_adding_a_block_again_replaces_it(store: Store) -> None:
    await store.add_block(DomainBlock(domain="spam.example", reason="spam", created_at=T0))
    await store.add_block(DomainBlock(domain="spam.example", reason="worse", created_at=T0 + 1))

    assert await store.list_blocks() == [
        DomainBlock(domain="spam.example", reason="worse", created_at=T0 + 1)
    ]


async def test_settings(store: Store) -> None:
    assert await store.get_setting("mode") is None
    await store.set_setting("mode", "approval")
    await store.set_setting("other", "x")
    await store.set_setting("mode", "allowlist")

    assert await store.get_setting("mode") == "allowlist"
    assert await store.get_setting("other") == "x"


async def test_every_policy_write_changes_the_policy_version(store: Store) -> None:
    seen = [await store.policy_version()]

    async def changed() -> bool:
        seen.append(await store.policy_version())
        return seen[-1] != seen[-2]

    await store.add_block(DomainBlock(domain="spam.example", reason="spam", created_at=T0))
    assert await changed()
    await store.add_block(
        DomainBlock(domain="spam.example", reason="worse", created_at=T0 + 1)
    )  # a replacement
    assert await changed()
    await store.set_setting("mode", "allowlist")
    assert await changed()
    await store.set_setting("allowlist", '["a.example"]')
    assert await changed()
    assert await store.remove_block("spam.example")
    assert await changed()
    # Reads and other records leave it alone.
    await store.list_blocks()
    await store.get_setting("mode")
    await store.put_key(_key())
    assert not await changed()
