"""SubscriptionStore contract: what each subscription holds, and what it may never touch."""

from __future__ import annotations

from federation.ports import Store
from federation.records import (
    SUBSCRIPTION_HISTORY,
    BlocklistSubscription,
    DomainBlock,
    Severity,
    SubscriptionFetch,
)

from .builders import T0


def sub(ident: str, url: str = "") -> BlocklistSubscription:
    return BlocklistSubscription(
        id=ident,
        url=url or f"https://lists.example/{ident}.csv",
        title=ident,
        format=None,
        max_shrink=0.5,
        created_at=T0,
    )


def listed(domain: str, severity: Severity = Severity.SUSPEND, reason: str = "") -> DomainBlock:
    return DomainBlock(
        domain=domain, reason=reason, created_at=T0, severity=severity, by_admin=False
    )


async def policy(store: Store) -> dict[str, tuple[str, bool]]:
    return {b.domain: (b.severity.value, b.by_admin) for b in await store.list_blocks()}


async def test_a_subscription_is_kept_once_per_url(store: Store) -> None:
    assert await store.add_subscription(sub("a"))
    assert not await store.add_subscription(sub("b", "https://lists.example/a.csv"))
    assert await store.add_subscription(sub("c"))
    assert [s.id for s in await store.list_subscriptions()] == ["a", "c"]
    assert await store.get_subscription("a") == sub("a")
    assert await store.get_subscription("b") is None


async def test_adds_and_retractions_touch_only_what_it_holds(store: Store) -> None:
    await store.add_subscription(sub("a"))
    await store.add_block(
        DomainBlock(domain="hand.example", reason="mine", created_at=T0, severity=Severity.SILENCE)
    )
    version = await store.policy_version()
    added, removed = await store.apply_subscription(
        "a", [listed("x.example"), listed("hand.example"), listed("y.example", Severity.NOOP)]
    )
    assert (added, removed) == (["x.example", "y.example"], [])
    assert await store.policy_version() != version
    assert await policy(store) == {
        "hand.example": ("silence", True),  # an admin's entry is never changed
        "x.example": ("suspend", False),
        "y.example": ("noop", False),
    }
    assert await store.is_blocked("x.example")

    added, removed = await store.apply_subscription("a", [listed("y.example")])
    assert (added, removed) == ([], ["x.example"])
    assert await policy(store) == {
        "hand.example": ("silence", True),  # retracted by the list, still the admin's
        "y.example": ("suspend", False),  # the list's new severity
    }
    assert await store.remove_subscription("a") == ["y.example"]  # all that it still held


async def test_two_subscriptions_holding_one_domain(store: Store) -> None:
    for ident in ("a", "b"):
        await store.add_subscription(sub(ident))
    await store.apply_subscription("a", [listed("both.example", Severity.SILENCE)])
    assert await store.apply_subscription("b", [listed("both.example")]) == ([], [])
    assert await policy(store) == {"both.example": ("suspend", False)}  # the strictest

    assert await store.remove_subscription("b") == []  # a still holds it
    assert await policy(store) == {"both.example": ("silence", False)}
    assert await store.remove_subscription("a") == ["both.example"]
    assert await policy(store) == {}
    assert await store.remove_subscription("a") is None


async def test_an_admin_block_of_a_held_domain_outlives_the_subscription(store: Store) -> None:
    await store.add_subscription(sub("a"))
    await store.apply_subscription("a", [listed("x.example")])
    await store.add_block(DomainBlock(domain="x.example", reason="mine now", created_at=T0 + 1))
    assert await store.remove_subscription("a") == []
    assert await policy(store) == {"x.example": ("suspend", True)}


async def test_one_claim_per_due_fetch_and_the_history(store: Store) -> None:
    await store.add_subscription(sub("a"))
    assert await store.claim_subscription("a", T0, T0 + 3600)
    assert not await store.claim_subscription("a", T0 + 1, T0 + 3601)  # not due again yet
    assert await store.claim_subscription("a", T0 + 3600, T0 + 7200)

    for i in range(SUBSCRIPTION_HISTORY + 2):
        await store.record_fetch("a", SubscriptionFetch(at=T0 + i, status="failed", error=f"e{i}"))
    await store.record_fetch(
        "a",
        SubscriptionFetch(at=T0 + 99, status="applied", listed=3, added=3),
        etag='"v1"',
        listed=3,
    )
    got = await store.get_subscription("a")
    assert got is not None
    assert len(got.history) == SUBSCRIPTION_HISTORY
    assert got.history[-1] == SubscriptionFetch(at=T0 + 99, status="applied", listed=3, added=3)
    assert got.history[0].error == "e3"
    assert (got.etag, got.last_modified, got.listed) == ('"v1"', None, 3)
