"""Every core of the machine: fan-out and inbox throughput of `federation serve --processes 2`
given two cores, as a ratio to one process given one core, in the same run. Goal: >= 1.7.

Fan-out: deliveries per second of one public block to 1,000 personal inboxes on 50 hosts (as
bench/fanout.py). Inbox: signed Creates accepted per second, whole pipeline (as bench/inbox.py,
role all), from a closed-loop generator with 32 connections. The receivers, the reference
backend and the load generator run on the second core (CPU 1) in both rows, so in the
two-core row the gateway shares that core with them: on a two-core machine this ratio is
bounded by what they take (say so with the figure; a machine with spare cores measures the
gateway alone).

Run: python -m bench cores [--rounds N]
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import CLIENT_CPU, SERVER_CPU, Results, fmt_num, spread
from bench.fanout import one_fanout, start_fanout_node
from bench.followers import followers
from bench.inbox import start_inbox_node
from bench.peer import make_peer, signed_creates
from bench.receivers import Receivers

GOAL = 1.7
ONE = ((SERVER_CPU,), 1)  # (CPUs the gateway may use, its processes)
TWO = ((SERVER_CPU, CLIENT_CPU), 2)


@dataclass(frozen=True)
class CoresOptions:
    rounds: int = 5
    hosts: int = 50
    per_host: int = 20
    inbox_seconds: float = 3.0
    concurrency: int = 32


def _ratio(two: list[float], one: list[float]) -> dict[str, float]:
    """Median over median, and the range the rounds allow (worst pair to best pair)."""
    a, b = spread(two), spread(one)
    return {"median": a.median / b.median, "min": a.low / b.high, "max": a.high / b.low}


def _fanout_rates(opts: CoresOptions, cpus: tuple[int, ...], processes: int) -> list[float]:
    expected = opts.hosts * opts.per_host
    with tempfile.TemporaryDirectory(prefix="bench-cores-") as tmp, Receivers(opts.hosts) as rx:
        follows = followers(rx.ports, opts.per_host, time.time())
        with start_fanout_node(Path(tmp), follows, cpus, processes=processes) as node:
            one_fanout(node, rx, expected, "warm-up")
            return [
                expected / one_fanout(node, rx, expected, f"round {n}") for n in range(opts.rounds)
            ]


def _inbox_rates(opts: CoresOptions, cpus: tuple[int, ...], processes: int) -> list[float]:
    peer = make_peer("ed25519")
    with (
        tempfile.TemporaryDirectory(prefix="bench-cores-") as tmp,
        loadgen.generator() as gen,
        start_inbox_node(Path(tmp), peer, "all", cpus=cpus, processes=processes) as node,
    ):
        build: Callable[..., Any] = functools.partial(signed_creates, peer, node.domain)
        rates: list[float] = []
        for n in range(opts.rounds + 1):  # the first is the warm-up
            need = int(4000 * opts.inbox_seconds) + opts.concurrency
            gen.submit(loadgen.prepare, "inbox", build, need).result()
            result = gen.submit(
                loadgen.closed,
                "inbox",
                "127.0.0.1",
                node.port,
                opts.inbox_seconds,
                opts.concurrency,
            ).result()
            if n:
                rates.append(result.rate)
        return rates


def run(opts: CoresOptions, results: Results) -> list[dict[str, Any]]:
    rows = []
    for name, measure in (("fan-out", _fanout_rates), ("inbox", _inbox_rates)):
        one = measure(opts, *ONE)
        two = measure(opts, *TWO)
        row = {
            "what": name,
            "one_core_per_s": spread(one).as_dict(),
            "two_cores_per_s": spread(two).as_dict(),
            "ratio": _ratio(two, one),
        }
        results.add("cores", row)
        r = row["ratio"]
        results.line(
            "cores",
            f"{name} on 2 cores (serve --processes 2) vs 1 core (goal >= {GOAL})",
            f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})",
            f"{fmt_num(spread(two).median)}/s vs {fmt_num(spread(one).median)}/s",
        )
        print(
            f"cores {name}: 2 cores {spread(two).median:.0f}/s ({min(two):.0f}-{max(two):.0f})"
            f" vs 1 core {spread(one).median:.0f}/s ({min(one):.0f}-{max(one):.0f}) -> ratio"
            f" {r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}), goal >= {GOAL}"
        )
        rows.append(row)
    return rows
