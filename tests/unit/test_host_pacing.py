"""Per-host pacing (AIMD lane widths, Retry-After pauses), on an injected clock."""

from __future__ import annotations

import itertools

from federation.delivery.pacing import HostPacing

CEILING = 8


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def pacing(clock: Clock) -> HostPacing:
    return HostPacing(ceiling=CEILING, slow_seconds=5.0, clock=clock)


def test_slow_answers_halve_a_lane_down_to_one_and_other_hosts_keep_theirs() -> None:
    p = pacing(Clock())
    widths = []
    for _ in range(5):
        p.answered_in("slow.example", 6.0)
        widths.append(p.limit("slow.example"))
    assert widths == [4, 2, 1, 1, 1]
    assert p.limit("other.example") == CEILING


def test_answers_in_time_widen_a_lane_back_to_the_ceiling_one_slot_per_lane() -> None:
    p = pacing(Clock())
    p.narrow("h")
    p.narrow("h")  # 2
    seen = []
    while p.limit("h") < CEILING:
        p.answered_in("h", 0.2)
        seen.append(p.limit("h"))
    # About one slot per lane's worth of answers (w answers at width w): additive increase,
    # never a jump back to the ceiling.
    assert seen == sorted(seen) and seen[-1] == CEILING
    assert all(b - a <= 1 for a, b in itertools.pairwise(seen))
    assert sum(range(2, CEILING)) <= len(seen) <= sum(range(2, CEILING + 1))


def test_a_pause_lasts_until_its_time_and_only_for_its_host() -> None:
    clock = Clock()
    p = pacing(clock)
    p.pause("h", clock.now + 4)
    p.pause("h", clock.now + 2)  # an earlier Retry-After does not shorten the pause
    assert p.paused_until("h") == clock.now + 4
    assert p.paused_until("other") is None
    clock.now += 4
    assert p.paused_until("h") is None
