"""Delivery policy: the backoff curve, Retry-After, the circuit breaker and unavailability."""

from __future__ import annotations

import random

import pytest

from federation.config import DeliverySettings
from federation.delivery.handler import backoff_delay, make_backoff, retry_delay
from federation.delivery.hosthealth import HostHealthTracker
from federation.http.hostrecords import HostRecords
from federation.storage.sqlite import SqliteStore

DAY = 86400.0
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z; well inside one UTC day


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def total_wait(attempts: int, rng: random.Random, **kw: float) -> float:
    # `attempts` attempts leave attempts - 1 waits between them.
    return sum(backoff_delay(n, rng, **kw) for n in range(1, attempts))


# -- backoff -------------------------------------------------------------------------------


def test_backoff_follows_mastodon_curve_with_bounded_jitter() -> None:
    rng = random.Random(1)
    for attempt in (1, 2, 5, 10):
        grow = attempt**4
        for _ in range(50):
            delay = backoff_delay(attempt, rng)
            assert grow + 15 <= delay <= grow + 15 + 0.5 * grow


def test_backoff_jitter_varies() -> None:
    rng = random.Random(2)
    assert len({backoff_delay(6, rng) for _ in range(10)}) > 1


@pytest.mark.parametrize("seed", range(5))
def test_sixteen_attempts_span_two_to_three_days(seed: int) -> None:
    total = total_wait(16, random.Random(seed))
    assert 2.0 * DAY <= total <= 3.2 * DAY


def test_base_and_minimum_scale_the_curve() -> None:
    fast = total_wait(16, random.Random(0), base=0.001, minimum=0.0)
    assert fast < 0.001 * 3.2 * DAY
    assert backoff_delay(1, random.Random(0), base=0.0001, minimum=15.0) >= 15.0


def test_make_backoff_uses_the_delivery_settings() -> None:
    backoff = make_backoff(DeliverySettings(backoff_base=2.0, backoff_min=5.0), random.Random(0))
    assert 2 * 16 + 5 <= backoff(2) <= 2 * 16 * 1.5 + 5


# -- Retry-After -----------------------------------------------------------------------------


def test_retry_after_longer_than_backoff_is_honoured() -> None:
    settings = DeliverySettings()
    assert retry_delay(1, 600.0, settings, random.Random(0)) == 600.0


def test_retry_after_is_capped() -> None:
    settings = DeliverySettings(retry_after_cap=3600.0)
    assert retry_delay(1, 10 * DAY, settings, random.Random(0)) == 3600.0


def test_short_retry_after_does_not_shorten_the_backoff() -> None:
    settings = DeliverySettings()
    delay = retry_delay(3, 1.0, settings, random.Random(0))
    assert delay >= 3**4 + 15


def test_retry_delay_follows_the_configured_curve() -> None:
    settings = DeliverySettings(backoff_base=2.0, backoff_min=100.0)
    for attempt in (1, 3):
        grow = 2.0 * attempt**4
        without_peer = retry_delay(attempt, None, settings, random.Random(attempt))
        assert grow + 100.0 <= without_peer <= grow * 1.5 + 100.0
    # A Retry-After shorter than the configured curve does not shorten it either.
    assert retry_delay(1, 50.0, settings, random.Random(0)) >= 102.0


# -- circuit breaker -------------------------------------------------------------------------


def tracker(store: SqliteStore, clock: Clock, **kw: float) -> HostHealthTracker:
    settings = DeliverySettings(breaker_threshold=3, breaker_open_seconds=60.0, **kw)
    return HostHealthTracker(hosts=store, settings=settings, clock=clock, probe_seconds=30.0)


async def opened(store: SqliteStore, clock: Clock) -> HostHealthTracker:
    """A tracker whose breaker for a.example has just opened: three failures in a row."""
    health = tracker(store, clock)
    for _ in range(3):
        await health.failure("a.example")
    return health


async def test_breaker_opens_after_threshold_consecutive_failures(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock)
    for _ in range(2):
        await health.failure("a.example")
    assert await health.gate("a.example") is None
    await health.failure("a.example")
    assert await health.gate("a.example") == T0 + 60.0
    assert await health.gate("b.example") is None  # per host


async def test_success_resets_the_consecutive_count(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock)
    await health.failure("a.example")
    await health.failure("a.example")
    await health.success("a.example")
    await health.failure("a.example")
    await health.failure("a.example")
    assert await health.gate("a.example") is None


async def test_half_open_lets_one_probe_through(store: SqliteStore) -> None:
    clock = Clock()
    health = await opened(store, clock)
    clock.now += 61
    assert await health.gate("a.example") is None  # the probe
    # Others ask again in a second: the probe's answer may reopen the host any moment.
    assert await health.gate("a.example") == clock.now + 1.0
    clock.now += 29.5
    assert await health.gate("a.example") == clock.now + 0.5  # never past probe_until
    clock.now += 0.5  # the probe never reported: another one may go
    assert await health.gate("a.example") is None
    assert await health.gate("a.example") == clock.now + 1.0


async def test_peek_never_takes_the_probe(store: SqliteStore) -> None:
    clock = Clock()
    health = await opened(store, clock)
    assert await health.peek("a.example") == T0 + 60.0
    clock.now += 61
    for _ in range(3):
        assert await health.peek("a.example") is None  # half-open, the probe slot still free
    assert await health.gate("a.example") is None  # so this caller gets it
    assert await health.peek("a.example") == clock.now + 1.0


@pytest.mark.parametrize("works", [True, False])
async def test_the_probes_answer_is_seen_at_once(store: SqliteStore, works: bool) -> None:
    clock = Clock()
    health = await opened(store, clock)
    clock.now += 61
    assert await health.gate("a.example") is None
    clock.now += 0.2  # well before the others' re-check time
    if works:
        await health.success("a.example")
        assert await health.peek("a.example") is None
        assert await health.gate("a.example") is None
        assert await health.gate("a.example") is None  # closed: no probe any more
    else:
        await health.failure("a.example")
        assert await health.peek("a.example") == clock.now + 60.0
        assert await health.gate("a.example") == clock.now + 60.0


async def test_failed_probe_reopens_successful_probe_closes(store: SqliteStore) -> None:
    clock = Clock()
    health = await opened(store, clock)
    clock.now += 61
    assert await health.gate("a.example") is None
    await health.failure("a.example")
    assert await health.gate("a.example") == clock.now + 60.0
    clock.now += 61
    assert await health.gate("a.example") is None
    await health.success("a.example")
    assert await health.gate("a.example") is None
    assert await health.gate("a.example") is None  # closed: everyone goes


async def test_an_answer_that_is_not_success_ends_the_probe_but_keeps_half_open(
    store: SqliteStore,
) -> None:
    clock = Clock()
    health = await opened(store, clock)
    clock.now += 61
    assert await health.gate("a.example") is None
    health.answered("a.example")  # e.g. a 403 for this one activity
    assert await health.gate("a.example") is None  # next probe
    assert await health.gate("a.example") is not None


# -- unavailability --------------------------------------------------------------------------


async def test_unavailable_after_failures_on_n_distinct_days(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock, unavailable_after_days=3)
    for _ in range(20):  # many failures on one day are one day
        await health.failure("a.example")
    assert not await health.is_unavailable("a.example")
    clock.now += DAY
    await health.failure("a.example")
    assert not await health.is_unavailable("a.example")
    clock.now += DAY
    await health.failure("a.example")
    assert await health.is_unavailable("a.example")
    stored = await store.get_host("a.example")
    assert stored is not None and stored.unavailable
    assert len(stored.failure_days) == 3


async def test_only_a_success_in_between_resets_the_days(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock, unavailable_after_days=3)
    await health.failure("a.example")
    clock.now += DAY
    await health.failure("a.example")
    health.answered("a.example")  # a 4xx/410 answer is not a success
    clock.now += DAY
    await health.failure("a.example")
    assert await health.is_unavailable("a.example")
    await health.success("a.example")
    assert not await health.is_unavailable("a.example")
    clock.now += DAY
    await health.failure("a.example")
    assert not await health.is_unavailable("a.example")
    assert (await health.health("a.example")).failure_days == ["2027-01-18"]


async def test_unavailability_survives_a_restart(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock, unavailable_after_days=2)
    await health.failure("a.example")
    clock.now += DAY
    await health.failure("a.example")
    fresh = tracker(store, clock, unavailable_after_days=2)
    assert await fresh.is_unavailable("a.example")


async def test_admin_reset_in_the_store_is_seen_after_the_cache_expires(
    store: SqliteStore,
) -> None:
    clock = Clock()
    settings = DeliverySettings(unavailable_after_days=1)
    health = HostHealthTracker(
        hosts=store, settings=settings, clock=clock, records=HostRecords(store, clock, ttl=30.0)
    )
    await health.failure("a.example")
    assert await health.is_unavailable("a.example")
    await store.reset_host("a.example")  # another process resets it
    assert await health.is_unavailable("a.example")  # cached
    clock.now += 31
    assert not await health.is_unavailable("a.example")


async def test_reset_makes_the_host_available(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock, unavailable_after_days=1)
    for _ in range(3):
        await health.failure("a.example")
    await health.reset("a.example")
    assert not await health.is_unavailable("a.example")
    assert await health.gate("a.example") is None
    stored = await store.get_host("a.example")
    assert stored is not None and not stored.unavailable and stored.consecutive_failures == 0


async def test_writes_keep_the_transports_signature_scheme(store: SqliteStore) -> None:
    clock = Clock()
    health = tracker(store, clock)
    await health.failure("a.example")
    await store.set_signature_scheme("a.example", "rfc9421")  # the transport learns it
    await health.failure("a.example")
    stored = await store.get_host("a.example")
    assert stored is not None
    assert stored.signature_scheme == "rfc9421"
    assert stored.consecutive_failures == 2
