"""The big peers row: one public block to 100,000 followers on 5,000 hosts that share an inbox
per host (so 5,000 signed POSTs), every host answering after 100 ms, as deliveries per second
over raw RSA-2048 signing on the same core in the same round (goal >= 0.7), with the gateway's
peak RSS. `--scale 0.1` runs a tenth of it (500 hosts, 10,000 followers): say which was run.

Run: python -m bench peers-big [--rounds N] [--scale F] [--rtt SECONDS]
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import SERVER_CPU, Results, RssSampler, fmt_mib, fmt_ratio, ratios, spread
from bench.fanout import RawSigners, create_block, start_fanout_node
from bench.followers import followers
from bench.node import BenchNode
from bench.rtt_receivers import Behaviour, RttReceivers

GOAL = 0.7
WAIT = 600.0


@dataclass(frozen=True)
class BigOptions:
    rounds: int = 3
    hosts: int = 5_000
    per_host: int = 20
    rtt: float = 0.1
    scale: float = 1.0

    @property
    def scaled_hosts(self) -> int:
        return max(1, round(self.hosts * self.scale))


def one_block(node: BenchNode, receivers: RttReceivers, title: str) -> float:
    everyone = range(len(receivers.plan))
    target = receivers.answered(everyone) + len(receivers.plan)
    start = time.perf_counter()
    create_block(node, title)
    receivers.wait_for(everyone, target, WAIT)
    return time.perf_counter() - start


def measure(opts: BigOptions, root: Path) -> dict[str, Any]:
    hosts = opts.scaled_hosts
    rates: list[float] = []
    raw: list[float] = []
    with (
        RttReceivers([Behaviour.RTT] * hosts, opts.rtt) as receivers,
        RawSigners((SERVER_CPU,)) as signers,
    ):
        follows = followers(receivers.ports, opts.per_host, time.time(), shared_inbox=True)
        with start_fanout_node(root, follows, (SERVER_CPU,)) as node:
            one_block(node, receivers, "warm-up")
            with RssSampler(node.gateway_pid) as rss:
                for n in range(opts.rounds):
                    raw.append(signers.rate())
                    rates.append(hosts / one_block(node, receivers, f"round {n}"))
                    print(f"peers-big round {n}: {rates[-1]:.0f}/s, raw {raw[-1]:.0f}/s")
            peak = rss.peak
    return {
        "hosts": hosts,
        "followers": hosts * opts.per_host,
        "rtt": opts.rtt,
        "ours_per_s": spread(rates).as_dict(),
        "raw_rsa_sign_per_s": spread(raw).as_dict(),
        "ratio": ratios(rates, raw).as_dict(),
        "peak_rss_kib": peak,
    }


def run(opts: BigOptions, results: Results) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-peers-big-") as tmp:
        row = measure(opts, Path(tmp))
    results.add("peers", row)
    r = row["ratio"]
    results.line(
        "peers",
        f"{row['followers']:,} followers on {row['hosts']:,} hosts (shared inboxes) at "
        f"{opts.rtt * 1000:.0f} ms RTT: deliveries/s vs raw RSA sign, 1 core (goal >= {GOAL})",
        fmt_ratio(spread([r["min"], r["median"], r["max"]])),
        f"{row['ours_per_s']['median']:.0f}/s (raw {row['raw_rsa_sign_per_s']['median']:.0f}/s),"
        f" peak RSS {fmt_mib(row['peak_rss_kib'])}",
    )
    return row
