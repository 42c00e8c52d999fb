"""Outbound delivery at internet conditions: one public block to 1,000 personal inboxes on 50
hosts (bench/rtt_receivers.py) that answer after a round-trip time, some of them blackholed,
slow or refusing connections. The gateway is a real `federation serve` with default settings.

Rows (median and range over --rounds; every ratio paired with a baseline from the same round):
- all 50 hosts at RTT: the per-host bound ceil(per_host / per_host_concurrency) x RTT over the
  time until every inbox has the block (goal >= 0.8); and, to say what bounds it, the same
  with the bound raised to the time the same hosts take when they answer at once (RTT 0: the
  gateway's CPU, mostly RSA signing, on this machine);
- 10% of hosts blackholed: the 45 live hosts' time without the dead ones (a gateway whose
  followers are on those 45 hosts only) over their time with them (goal >= 0.9); the next
  block, the same hosts still dead (>= 0.95). A fresh gateway each round, so the first block
  is one the gateway knows nothing about;
- 10% slow (answer after 8 s), then 10% refusing connections, instead of dead (>= 0.9).

Run: python -m bench peers [--rounds N] [--rtt SECONDS]
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import SERVER_CPU, Results, fmt_ratio, ratios, spread
from bench.fanout import create_block, start_fanout_node
from bench.followers import followers
from bench.node import BenchNode
from bench.rtt_receivers import Behaviour, RttReceivers
from federation.config import DeliverySettings

BOUND_GOAL = 0.8
DEAD_GOAL = 0.9
NEXT_GOAL = 0.95
SLOW_GOAL = 0.9
WAIT = 240.0  # seconds a block may take before a round fails


@dataclass(frozen=True)
class PeersOptions:
    rounds: int = 3
    hosts: int = 50
    per_host: int = 20
    rtt: float = 0.2
    bad_share: float = 0.1


@dataclass
class Fleet:
    """Receivers (one process) and the gateway following every inbox on them."""

    receivers: RttReceivers
    node: BenchNode
    per_host: int

    @property
    def live(self) -> list[int]:
        return self.receivers.indexes(Behaviour.RTT)

    def block(self, title: str) -> float:
        """Seconds from creating a public block until every live inbox has it."""
        live = self.live
        target = self.receivers.answered(live) + len(live) * self.per_host
        start = time.perf_counter()
        create_block(self.node, title)
        self.receivers.wait_for(live, target, WAIT)
        return time.perf_counter() - start


def plan(opts: PeersOptions, bad: Behaviour | None) -> list[Behaviour]:
    """The hosts: the live ones first; `bad` (if any) for bad_share of the total after them."""
    n_bad = round(opts.hosts * opts.bad_share)
    live = opts.hosts - n_bad
    return [Behaviour.RTT] * live + ([bad] * n_bad if bad is not None else [])


@contextmanager
def fleet(
    opts: PeersOptions,
    hosts: list[Behaviour],
    receivers: RttReceivers | None = None,
    rtt: float | None = None,
) -> Iterator[Fleet]:
    with ExitStack() as stack:
        if receivers is None:
            receivers = stack.enter_context(RttReceivers(hosts, opts.rtt if rtt is None else rtt))
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peers-")))
        follows = followers(receivers.ports, opts.per_host, time.time())
        node = stack.enter_context(start_fanout_node(root, follows, (SERVER_CPU,)))
        yield Fleet(receivers, node, opts.per_host)


def bound_seconds(opts: PeersOptions) -> float:
    limit = DeliverySettings().per_host_concurrency
    return math.ceil(opts.per_host / limit) * opts.rtt


def measure(opts: PeersOptions) -> dict[str, list[float]]:
    """Seconds per block, per scenario, round by round (paired by index)."""
    times: dict[str, list[float]] = {
        k: [] for k in ("all", "at_once", "live", "dead", "dead_next", "slow", "refused")
    }
    with ExitStack() as stack:
        steady = {
            "all": stack.enter_context(fleet(opts, [Behaviour.RTT] * opts.hosts)),
            # The same hosts answering at once: what the gateway's CPU allows on this machine.
            "at_once": stack.enter_context(fleet(opts, [Behaviour.RTT] * opts.hosts, rtt=0.0)),
            "live": stack.enter_context(fleet(opts, plan(opts, None))),
            "slow": stack.enter_context(fleet(opts, plan(opts, Behaviour.SLOW))),
            "refused": stack.enter_context(fleet(opts, plan(opts, Behaviour.REFUSED))),
        }
        dead = stack.enter_context(RttReceivers(plan(opts, Behaviour.BLACKHOLE), opts.rtt))
        for name, f in steady.items():
            if name != "slow":  # slow hosts stay busy from then on: their round starts cold
                f.block("warm-up")
        for n in range(opts.rounds):
            for name, f in steady.items():
                times[name].append(f.block(f"{name} round {n}"))
            with fleet(opts, dead.plan, dead) as fresh:
                times["dead"].append(fresh.block(f"dead round {n}"))
                times["dead_next"].append(fresh.block(f"dead round {n}, next block"))
            print(f"peers round {n}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    return times


def run(opts: PeersOptions, results: Results) -> dict[str, Any]:
    times = measure(opts)
    bound = bound_seconds(opts)
    live = times["live"]
    floor = [max(bound, t) for t in times["at_once"]]
    rows = [
        ("all hosts at RTT: per-host bound / time", [bound] * len(live), times["all"], BOUND_GOAL),
        ("all hosts at RTT: max(bound, time at RTT 0) / time", floor, times["all"], None),
        ("10% blackholed: live hosts, without / with", live, times["dead"], DEAD_GOAL),
        ("next block, still dead: without / with", live, times["dead_next"], NEXT_GOAL),
        ("10% slow (8 s): without / with", live, times["slow"], SLOW_GOAL),
        ("10% refusing: without / with", live, times["refused"], SLOW_GOAL),
    ]
    inboxes = opts.hosts * opts.per_host
    head = f"{inboxes} inboxes on {opts.hosts} hosts at {opts.rtt * 1000:.0f} ms RTT"
    for label, base, ours, goal in rows:
        ratio = ratios(base, ours)
        t = spread(ours)
        results.line(
            "peers",
            f"{head}, {label}" + ("" if goal is None else f" (goal >= {goal})"),
            fmt_ratio(ratio),
            f"{t.median:.2f} s ({t.low:.2f}-{t.high:.2f}) vs {spread(base).median:.2f} s",
        )
    row = {"options": vars(opts), "bound_s": bound, "seconds": times}
    results.add("peers", row)
    return row
