"""Scale: how inbox throughput, fan-out, resolve latency and memory change as the work grows
(default 1k -> 10k -> 100k followers, cached blocks and queued deliveries, all at once).

Each size gets a fresh gateway whose store holds N followers (on 50 receiving hosts), N cached
remote blocks and N deliveries queued for later; ratios are to the smallest size measured in
the same run. Full HTTP fan-out runs up to FULL_FANOUT_MAX followers; above that the queue
side of a fan-out (enqueue_fanout of N jobs, then claim + complete them all) is measured
in-process on the server core instead, and the table says so.

The whole series runs `rounds` times (default 3, each round every size in turn, so a round's
ratios compare sizes measured minutes apart, not a whole run apart); the summary gives, per
size, the median and range over the rounds of the inbox rate and resolve p99, and of their
ratio to the smallest size in the same round. Goal: within 1.2x at the largest size.

Run: python -m bench scale [--sizes 1000,10000,100000] [--rounds 3]
"""

from __future__ import annotations

import functools
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import Results, RssSampler, Spread, percentile, spread, status_kib, table
from bench.fanout import _pin_server, one_fanout
from bench.followers import followers, one_transaction
from bench.node import BenchNode
from bench.peer import make_peer, signed_creates
from bench.queue_cost import queue_cost
from bench.receivers import Receivers
from bench.resolve import remote_block, resolve_gets
from bench.rounds import drain_seconds
from federation.records import NewJob
from federation.resolve.resolver import cache_entry_for
from federation.storage.sqlite import SqliteStore

FULL_FANOUT_MAX = 10_000
HOSTS = 50
WINDOW = 2.0
CONCURRENCY = 32
# Growth may cost at most this factor: the largest size's inbox rate no lower than the smallest's
# divided by it, its resolve p99 no higher than the smallest's times it. Being faster at the
# larger size is not a scaling cost (it is the smaller size's round being noisy), so the check
# is one-sided.
GOAL = 1.2


@dataclass(frozen=True)
class ScaleOptions:
    sizes: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000])
    rounds: int = 3


async def fill(store: SqliteStore, n: int, ports: list[int], peer: Any) -> None:
    now = time.time()
    await store.put_key(peer.remote_key(now))
    await store.put_follow(peer.following(now))
    with one_transaction(store):
        for follow in followers(ports, n // len(ports), now):
            await store.put_follow(follow)
        for i in range(n):
            await store.put_cached(cache_entry_for(remote_block(i), now, 86_400.0))
    later = now + 30 * 86_400.0  # queued, not due: a backlog the gateway must step around
    jobs = [
        NewJob(
            kind="deliver",
            dedupe_key=f"deliver:backlog:{i}",
            payload={"activity_id": "backlog", "inbox": f"x/{i}"},
            host=f"backlog-{i % HOSTS}.example",
            run_at=later,
        )
        for i in range(n)
    ]
    await store.enqueue(jobs, now)


def measure_size(
    n: int, root: Path, gen: ProcessPoolExecutor, cpu0: ProcessPoolExecutor
) -> dict[str, Any]:
    peer = make_peer()
    node = BenchNode(root / f"n{n}")
    node.write_config()
    row: dict[str, Any] = {"size": n}
    with Receivers(HOSTS) as receivers:
        start = time.perf_counter()
        node.fill(functools.partial(fill, n=n, ports=receivers.ports, peer=peer))
        row["fill_s"] = time.perf_counter() - start
        node.start_backend()
        node.start_gateway()
        with node, RssSampler(node.gateway_pid) as rss:
            row["rss_idle_kib"] = status_kib(node.gateway_pid, "VmRSS")
            row.update(_inbox(gen, node, peer))
            row["inbox_drain_s"] = drain_seconds(node.store_path)  # no background work left
            row.update(_resolve(gen, node, n))
            if n <= FULL_FANOUT_MAX:
                seconds = one_fanout(node, receivers, n - n % HOSTS, "scale")
                row["fanout_http_per_s"] = (n - n % HOSTS) / seconds
            row["rss_peak_kib"] = rss.peak
    row.update(cpu0.submit(queue_cost, n).result())
    return row


def _inbox(gen: ProcessPoolExecutor, node: BenchNode, peer: Any) -> dict[str, Any]:
    build = functools.partial(signed_creates, peer, node.domain)
    gen.submit(loadgen.prepare, "inbox", build, 3_000).result()
    gen.submit(loadgen.closed, "inbox", "127.0.0.1", node.port, 0.5, CONCURRENCY).result()
    r = gen.submit(loadgen.closed, "inbox", "127.0.0.1", node.port, WINDOW, CONCURRENCY).result()
    return {"inbox_per_s": r.rate}


def _resolve(gen: ProcessPoolExecutor, node: BenchNode, n: int) -> dict[str, Any]:
    build = functools.partial(resolve_gets, node.domain, node.backend_token, n)
    gen.submit(loadgen.prepare, f"resolve{n}", build, min(n, 5_000)).result()
    r = gen.submit(
        loadgen.closed, f"resolve{n}", "127.0.0.1", node.port, WINDOW, CONCURRENCY, True
    ).result()
    lat = r.all_latencies()
    return {
        "resolve_per_s": r.rate,
        "resolve_p50_ms": percentile(lat, 50) * 1000,
        "resolve_p99_ms": percentile(lat, 99) * 1000,
    }


def run(opts: ScaleOptions, results: Results) -> list[list[dict[str, Any]]]:
    rounds: list[list[dict[str, Any]]] = []
    ctx = get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
        loadgen.generator() as gen,
        ProcessPoolExecutor(1, mp_context=ctx, initializer=_pin_server) as cpu0,
    ):
        for r in range(opts.rounds):
            rows = []
            for n in opts.sizes:
                print(
                    f"scale round {r + 1}/{opts.rounds}: {n:,} followers / cached blocks / "
                    "queued deliveries ...",
                    flush=True,
                )
                rows.append(measure_size(n, Path(tmp) / f"round{r}", gen, cpu0))
            for row in rows:
                results.add("scale", {"round": r + 1, **row})
            print_table(rows)
            rounds.append(rows)
    summarise(rounds, results)
    return rounds


def _over(rounds: list[list[dict[str, Any]]], i: int, key: str, *, ratio: bool) -> Spread:
    """Size number i's `key` over the rounds, or its ratio to the first size in each round."""
    return spread([rows[i][key] / (rows[0][key] if ratio else 1.0) for rows in rounds])


def _fmt(s: Spread, fmt: str) -> str:
    return f"{fmt.format(s.median)} ({fmt.format(s.low)}-{fmt.format(s.high)})"


def summarise(rounds: list[list[dict[str, Any]]], results: Results) -> None:
    """Median and range over the rounds, per size; the largest size against the goal."""
    first = rounds[0][0]["size"]
    lines = []
    for i, row in enumerate(rounds[0]):
        inbox_x = _over(rounds, i, "inbox_per_s", ratio=True)
        p99_x = _over(rounds, i, "resolve_p99_ms", ratio=True)
        inbox = _fmt(_over(rounds, i, "inbox_per_s", ratio=False), "{:.0f}/s")
        p99 = _fmt(_over(rounds, i, "resolve_p99_ms", ratio=False), "{:.1f} ms")
        ratios = f"x{_fmt(inbox_x, '{:.2f}')}, x{_fmt(p99_x, '{:.2f}')}"
        lines.append((f"{row['size']:,}", inbox, p99, ratios))
        results.line(
            "scale",
            f"{row['size']:,} items vs {first:,}: inbox/s, resolve p99 (goal within {GOAL}x)",
            ratios,
            f"{inbox}, {p99}",
        )
    print(f"\nscale over {len(rounds)} rounds: median (range)")
    header = ("size", "inbox accepted", "resolve p99", f"ratio to {first:,}: inbox, p99")
    print(table(header, lines))
    last = len(rounds[0]) - 1
    inbox_x = _over(rounds, last, "inbox_per_s", ratio=True)
    p99_x = _over(rounds, last, "resolve_p99_ms", ratio=True)
    met = 1 / GOAL <= inbox_x.low and p99_x.high <= GOAL
    print(
        f"{rounds[0][last]['size']:,}/{first:,}: inbox x{_fmt(inbox_x, '{:.2f}')}, resolve p99 "
        f"x{_fmt(p99_x, '{:.2f}')}; goal (no worse than {GOAL}x in every round): "
        + ("met" if met else "not met")
    )


def _cell(row: dict[str, Any], first: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    base = first.get(key) or value
    return f"{fmt.format(value)} (x{value / base:.2f})"


def print_table(rows: list[dict[str, Any]]) -> None:
    """One round's table."""
    first = rows[0]
    lines = []
    for r in rows:
        per_enqueue = r["enqueue_s"] / r["size"] * 1e6
        per_claim = r["claim_complete_s"] / r["size"] * 1e6
        lines.append(
            (
                f"{r['size']:,}",
                _cell(r, first, "inbox_per_s", "{:.0f}/s"),
                _cell(r, first, "resolve_p50_ms", "{:.1f} ms"),
                _cell(r, first, "resolve_p99_ms", "{:.1f} ms"),
                _cell(r, first, "fanout_http_per_s", "{:.0f}/s"),
                f"{per_enqueue:.1f} + {per_claim:.1f} us/job",
                f"{r['rss_idle_kib'] / 1024:.0f} / {r['rss_peak_kib'] / 1024:.0f} MiB",
            )
        )
    header = (
        "size",
        "inbox accepted",
        "resolve p50",
        "resolve p99",
        "fan-out HTTP",
        "queue enqueue + claim/complete",
        "RSS idle / peak",
    )
    print(table(header, lines))
    print(
        f"(x: ratio to the {first['size']:,} row; fan-out HTTP above {FULL_FANOUT_MAX:,} "
        "followers is not run: the queue column is the in-process cost of that fan-out)"
    )
