"""Soak: minutes of inbox traffic at a sustained rate near measured capacity (default 80%),
mixing valid signed Creates with invalid traffic (unsigned, bad digest, not JSON).

Pass criteria: no valid request refused (error rate 0), memory flat (RSS at start vs end),
every invalid request refused with a 4xx; latency p50/p99 reported (counted from the scheduled
send time, so a stalled server cannot hide its queueing).

With `--followers N` the gateway's store first holds N followers, N cached remote blocks and N
queued (not yet due) deliveries, as in the scale bench's largest size, so memory is measured
with the state a large instance carries. RSS is printed at each quarter of the run: "flat" means
the last quarter is no higher than the first, past warm-up.

Run: python -m bench soak [--seconds 180] [--followers 100000] [--load 0.8]
"""

from __future__ import annotations

import functools
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import Results, RssSampler, fmt_mib, percentile
from bench.inbox import start_inbox_node
from bench.loadgen import LoadResult
from bench.node import BenchNode
from bench.peer import Peer, make_peer, mixed, signed_creates
from bench.rounds import drain_seconds
from bench.scale import HOSTS
from bench.scale import fill as fill_scale

INVALID_SHARE = 0.25


@dataclass(frozen=True)
class SoakOptions:
    seconds: float = 180.0
    load: float = 0.8  # share of measured capacity
    concurrency: int = 32  # for the capacity measurement
    followers: int = 0  # also seed this many followers, cached blocks and queued deliveries


def capacity(gen: ProcessPoolExecutor, node: BenchNode, build: Any, concurrency: int) -> float:
    gen.submit(loadgen.prepare, "cap", build, 3_000).result()
    gen.submit(loadgen.closed, "cap", "127.0.0.1", node.port, 1.0, concurrency).result()
    return gen.submit(loadgen.closed, "cap", "127.0.0.1", node.port, 3.0, concurrency).result().rate


def summarise(result: LoadResult, rss: RssSampler, rate: float, cap: float) -> dict[str, Any]:
    valid: dict[int, int] = dict(result.statuses.get("valid", {}))
    valid_total = sum(valid.values())
    valid_bad = sum(n for s, n in valid.items() if s != 202)
    invalid = {t: dict(c) for t, c in result.statuses.items() if t != "valid"}
    wrongly_ok = sum(n for c in invalid.values() for s, n in c.items() if s < 400 or s >= 500)
    lat = result.latencies.get("valid", [])
    return {
        "capacity_per_s": cap,
        "offered_per_s": rate,
        "achieved_per_s": result.rate,
        "seconds": result.elapsed,
        "valid": valid_total,
        "valid_errors": valid_bad + result.errors,
        "valid_error_rate": (valid_bad + result.errors) / valid_total if valid_total else 1.0,
        "invalid_statuses": invalid,
        "invalid_not_refused": wrongly_ok,
        "p50_ms": percentile(lat, 50) * 1000,
        "p99_ms": percentile(lat, 99) * 1000,
        "late_sends": result.late,
        "rss_start_kib": rss.start,
        "rss_settled_kib": rss.settled,
        "rss_end_kib": rss.end,
        "rss_peak_kib": rss.peak,
        "rss_quarters_kib": quarters(rss.samples),
    }


def quarters(samples: list[int]) -> list[int]:
    """RSS at 25, 50, 75 and 100% of the run."""
    if not samples:
        return [0, 0, 0, 0]
    return [samples[min(len(samples) - 1, len(samples) * q // 4)] for q in (1, 2, 3, 4)]


def start_node(root: Path, peer: Peer, followers: int) -> BenchNode:
    if not followers:
        return start_inbox_node(root, peer)
    node = BenchNode(root)
    node.write_config()
    # The followers' inboxes are never contacted (inbound traffic fans nothing out): any port.
    node.fill(functools.partial(fill_scale, n=followers, ports=[9] * HOSTS, peer=peer))
    node.start_backend()
    node.start_gateway("all", None)
    return node


def run(opts: SoakOptions, results: Results) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp, loadgen.generator() as gen:
        peer = make_peer()
        with start_node(Path(tmp) / "gw", peer, opts.followers) as node:
            cap = capacity(
                gen, node, functools.partial(signed_creates, peer, node.domain), opts.concurrency
            )
            rate = cap * opts.load
            build = functools.partial(mixed, peer, node.domain, invalid_share=INVALID_SHARE)
            gen.submit(loadgen.prepare, "soak", build, int(rate * opts.seconds) + 1).result()
            drain_seconds(node.store_path)  # start from an idle gateway
            with RssSampler(node.gateway_pid, interval=0.5) as rss:
                result = gen.submit(
                    loadgen.open_rate, "soak", "127.0.0.1", node.port, opts.seconds, rate
                ).result()
            row = summarise(result, rss, rate, cap)
            row["drain_after_s"] = drain_seconds(node.store_path)
            row["followers"] = opts.followers
    report(row, results)
    return row


def report(row: dict[str, Any], results: Results) -> None:
    growth = row["rss_end_kib"] - row["rss_settled_kib"]
    verdict = "PASS" if row["valid_errors"] == 0 and row["invalid_not_refused"] == 0 else "FAIL"
    results.add("soak", row)
    results.line(
        "soak",
        f"{row['seconds']:.0f} s at {row['offered_per_s']:.0f}/s "
        f"({INVALID_SHARE:.0%} invalid): {verdict}",
        f"{row['achieved_per_s'] / row['capacity_per_s']:.2f} of capacity",
        f"valid errors {row['valid_errors']}/{row['valid']}, p99 {row['p99_ms']:.1f} ms,"
        f" RSS {fmt_mib(row['rss_settled_kib'])} -> {fmt_mib(row['rss_end_kib'])}",
    )
    print(
        f"soak: {row['seconds']:.0f} s, capacity {row['capacity_per_s']:.0f}/s, offered "
        f"{row['offered_per_s']:.0f}/s, achieved {row['achieved_per_s']:.0f}/s ({verdict})"
    )
    print(
        f"  valid: {row['valid']} sent, {row['valid_errors']} errors "
        f"(rate {row['valid_error_rate']:.4f}); p50 {row['p50_ms']:.1f} ms p99 "
        f"{row['p99_ms']:.1f} ms; {row['late_sends']} sends over 1 s late"
    )
    print(
        f"  invalid: {row['invalid_statuses']}; not refused with a 4xx: "
        f"{row['invalid_not_refused']}"
    )
    print(
        f"  RSS start {fmt_mib(row['rss_start_kib'])}, after 10% "
        f"{fmt_mib(row['rss_settled_kib'])}, end {fmt_mib(row['rss_end_kib'])} "
        f"(growth {growth / 1024:+.1f} MiB) peak {fmt_mib(row['rss_peak_kib'])}; "
        f"queue drained {row['drain_after_s']:.1f} s after the end"
    )
    print(
        f"  RSS at each quarter: {', '.join(fmt_mib(k) for k in row['rss_quarters_kib'])}"
        f" with {row['followers']:,} followers, cached blocks and queued deliveries"
        " (goal: peak <= 100 MiB, flat)"
    )
