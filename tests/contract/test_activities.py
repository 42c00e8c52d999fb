"""ActivityLog contract."""

from __future__ import annotations

from federation.ports import Store

from .builders import T0

ACTIVITY = "https://a.example/activities/1"


async def test_put_then_get_returns_the_exact_bytes(store: Store) -> None:
    body = b'{"type":"Create","name":"\xc3\xbc"}\x00\xff'
    await store.put_activity(ACTIVITY, body, T0)

    assert await store.get_activity(ACTIVITY) == body
    assert await store.get_activity(ACTIVITY + "x") is None


async def test_put_again_replaces_the_body(store: Store) -> None:
    await store.put_activity(ACTIVITY, b"{}", T0)
    await store.put_activity(ACTIVITY, b'{"v":2}', T0 + 1)

    assert await store.get_activity(ACTIVITY) == b'{"v":2}'
