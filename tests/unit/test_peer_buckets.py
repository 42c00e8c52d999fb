"""The per-peer token buckets of web/limits.py, on an injected clock: the burst, the refill,
the Retry-After they compute, and the bounded table (an idle peer forgotten only once its
bucket would be full again; the least recently seen forgotten past the size bound)."""

from __future__ import annotations

from federation.web.limits import PeerBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    buckets = PeerBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.retry_after("a") == 1  # half a second, rounded up to whole seconds
    assert buckets.empty("a") and not buckets.empty("b")
    clock.now += 0.5
    assert not buckets.empty("a")
    assert buckets.allow("a") and not buckets.allow("a")


def test_retry_after_counts_whole_seconds_to_the_next_token() -> None:
    clock = Clock()
    buckets = PeerBuckets(rate=0.1, burst=1, clock=clock)
    assert buckets.allow("a") and not buckets.allow("a")
    assert buckets.retry_after("a") == 10
    clock.now += 4.5
    assert not buckets.allow("a")
    assert buckets.retry_after("a") == 6


def test_a_token_given_back_is_spendable_again() -> None:
    buckets = PeerBuckets(rate=0.001, burst=1, clock=Clock())
    assert buckets.allow("a")
    buckets.give_back("a")
    assert buckets.allow("a") and not buckets.allow("a")


def test_a_peer_is_remembered_while_its_bucket_refills() -> None:
    clock = Clock()
    buckets = PeerBuckets(rate=1.0, burst=10, clock=clock)
    for _ in range(10):
        buckets.allow("a")
    clock.now += 9.0  # nine tokens back: still remembered, so not a fresh burst of ten
    assert [buckets.allow("a") for _ in range(10)].count(True) == 9


def test_the_table_is_bounded() -> None:
    clock = Clock()
    buckets = PeerBuckets(rate=0.001, burst=1, clock=clock, max_peers=2)
    assert buckets.allow("a") and not buckets.allow("a")
    buckets.allow("b")
    buckets.allow("c")  # the table holds two: "a", seen least recently, is forgotten
    assert buckets.allow("a")
