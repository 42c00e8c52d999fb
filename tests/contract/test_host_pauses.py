"""HostPauses contract: pausing delivery to a host is kept, listed, and lifted."""

from __future__ import annotations

from federation.ports import Store
from federation.records import HostPause

from .builders import T0


async def test_a_pause_is_kept_until_resumed(store: Store) -> None:
    assert await store.paused_hosts() == []
    assert await store.pause_host(HostPause(host="b.example", reason="maintenance", paused_at=T0))
    assert await store.pause_host(HostPause(host="a.example:8443", reason="", paused_at=T0 + 1))
    assert await store.paused_hosts() == [
        HostPause(host="a.example:8443", reason="", paused_at=T0 + 1),
        HostPause(host="b.example", reason="maintenance", paused_at=T0),
    ]

    assert await store.resume_host("b.example")
    assert await store.paused_hosts() == [
        HostPause(host="a.example:8443", reason="", paused_at=T0 + 1)
    ]
    assert not await store.resume_host("b.example")  # not paused any more


async def test_pausing_a_paused_host_keeps_the_first_pause(store: Store) -> None:
    assert await store.pause_host(HostPause(host="b.example", reason="first", paused_at=T0))
    assert not await store.pause_host(
        HostPause(host="b.example", reason="second", paused_at=T0 + 5)
    )
    assert await store.paused_hosts() == [HostPause(host="b.example", reason="first", paused_at=T0)]


async def test_a_pause_names_one_host_exactly(store: Store) -> None:
    await store.pause_host(HostPause(host="example.org", reason="", paused_at=T0))
    assert not await store.resume_host("sub.example.org")
    assert [p.host for p in await store.paused_hosts()] == ["example.org"]
