"""Inbound backpressure and the inbox's floor, two rows (web-role gateways, embedded store):

- floor: signed Creates accepted per second by the accept path (per-peer limits lifted: one
  bench peer carries the whole load) vs bench/floor.py, a trivial aiohttp handler that reads
  the body, verifies the same signature with raw `cryptography` and inserts one row into
  SQLite (WAL, the gateway's synchronous setting); paired rounds. Goal >= 0.6.
- flood: a gateway with the default per-peer limits. Host B sends signed Creates at a steady
  VICTIM_RATE (half its limit), open loop; each round has a quiet window, then a window in
  which host A floods the inbox at 5x the accept capacity the floor row measured (open loop,
  its requests cycled). B's window starts once A has spent its burst, so it measures the
  steady flood. The row: B's accept p99 during the flood / quiet. Goal <= 2. A's accepted
  requests are checked against what its bucket allows.

Run: python -m bench flood [--rounds N]
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from bench import loadgen
from bench.common import Results, cpu_seconds, fmt_num, fmt_ratio, percentile, spread
from bench.floor import floor_server
from bench.inbox import InboxOptions, measure_inbox, start_inbox_node
from bench.loadgen import LoadResult
from bench.node import BenchNode
from bench.peer import Peer, make_peer, signed_creates
from federation.config import Limits
from federation.storage.sqlite import SqliteStore

FLOOR_GOAL = 0.6
FLOOD_GOAL = 2.0
DEFAULTS = Limits()
CPU_SHARE: dict[int, float] = {}  # id(a victim window's result) -> gateway CPU share in it
FLOOD_POOL = 3000  # distinct requests the flooder cycles: past its burst, they are all 429


@dataclass(frozen=True)
class FloodOptions:
    rounds: int = 3
    seconds: float = 5.0  # per window
    victim_rate: float = DEFAULTS.inbox_rate / 2
    flood_factor: float = 5.0
    settle: float = 2.0  # seconds of flood before B's window opens


def run(opts: FloodOptions, results: Results) -> None:
    capacity = floor_row(opts, results)
    flood_row(opts, results, capacity)


def floor_row(opts: FloodOptions, results: Results) -> float:
    """The accept path vs its floor; returns the accept path's median rate (its capacity)."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp, loadgen.generator() as gen:
        root = Path(tmp)
        peer = make_peer("ed25519")
        public = peer.private_key().public_key()
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        with floor_server(root, raw) as port, start_inbox_node(root / "gw", peer, "web") as node:
            paired, _ = measure_inbox(gen, node, peer, port, InboxOptions(rounds=opts.rounds))
    row = {"row": "floor", **paired.summary("valid")}
    results.add("flood", row)
    ours = spread([r.rate for r in paired.ours])
    floor = spread([r.rate for r in paired.base])
    results.line(
        "flood",
        f"inbox accept path vs its floor (goal >= {FLOOR_GOAL})",
        fmt_ratio(paired.ratio),
        f"{fmt_num(ours.median)}/s vs floor {fmt_num(floor.median)}/s, p99 {row['p99_ms']:.1f} ms",
    )
    r = row["ratio"]
    print(
        f"flood/floor: accept path {ours.median:.0f}/s ({ours.low:.0f}-{ours.high:.0f}) vs floor "
        f"{floor.median:.0f}/s ({floor.low:.0f}-{floor.high:.0f}) -> ratio {r['median']:.2f} "
        f"({r['min']:.2f}-{r['max']:.2f}), goal >= {FLOOR_GOAL}; {row['failed']} failed"
    )
    return ours.median


@contextmanager
def two_peer_node(root: Path, peers: list[Peer]) -> Iterator[BenchNode]:
    """A web-role gateway with the default per-peer limits, following every peer."""
    defaults = {k: getattr(DEFAULTS, k) for k in ("inbox_rate", "inbox_burst")}
    node = BenchNode(root, extra={"limits": defaults})
    node.write_config()

    async def fill(store: SqliteStore) -> None:
        now = time.time()
        for peer in peers:
            await store.put_key(peer.remote_key(now))
            await store.put_follow(peer.following(now))

    node.fill(fill)
    with node:
        node.start_backend()
        node.start_gateway("web")
        yield node


def flood_row(opts: FloodOptions, results: Results, capacity: float) -> None:
    flood_rate = capacity * opts.flood_factor
    with (
        tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp,
        loadgen.generator() as victim_gen,
        loadgen.generator() as flood_gen,
    ):
        flooder, victim = make_peer("ed25519"), make_peer("ed25519")
        with two_peer_node(Path(tmp) / "gw", [flooder, victim]) as node:
            windows = opts.rounds * 2 + 1
            victim_gen.submit(
                loadgen.prepare,
                "victim",
                functools.partial(signed_creates, victim, node.domain),
                int(opts.victim_rate * opts.seconds * windows * 1.1),
            ).result()
            build = functools.partial(signed_creates, flooder, node.domain)
            flood_gen.submit(loadgen.prepare, "flood", build, FLOOD_POOL).result()
            _victim_window(victim_gen, node, opts)  # warm-up: connections, key cache, pages
            started = time.perf_counter()
            quiet, loud, floods = _rounds(victim_gen, flood_gen, node, opts, flood_rate)
            elapsed = time.perf_counter() - started
    _report_flood(results, opts, capacity, quiet, loud, floods, elapsed)


def _victim_window(gen: ProcessPoolExecutor, node: BenchNode, opts: FloodOptions) -> LoadResult:
    """B's window; the gateway's CPU share over it is kept in `cpu_share` (a core = 1.0)."""
    cpu0, t0 = cpu_seconds(node.gateway_pid), time.perf_counter()
    window = gen.submit(
        loadgen.open_rate, "victim", "127.0.0.1", node.port, opts.seconds, opts.victim_rate
    )
    result = window.result()
    CPU_SHARE[id(result)] = (cpu_seconds(node.gateway_pid) - cpu0) / (time.perf_counter() - t0)
    return result


def _rounds(
    victim_gen: ProcessPoolExecutor,
    flood_gen: ProcessPoolExecutor,
    node: BenchNode,
    opts: FloodOptions,
    flood_rate: float,
) -> tuple[list[LoadResult], list[LoadResult], list[LoadResult]]:
    quiet: list[LoadResult] = []
    loud: list[LoadResult] = []
    floods: list[LoadResult] = []
    for _ in range(opts.rounds):
        quiet.append(_victim_window(victim_gen, node, opts))
        span = opts.settle + opts.seconds + 0.5
        flood = flood_gen.submit(
            loadgen.open_rate, "flood", "127.0.0.1", node.port, span, flood_rate, True
        )
        time.sleep(opts.settle)
        loud.append(_victim_window(victim_gen, node, opts))
        floods.append(flood.result())
    return quiet, loud, floods


def _p99_ms(result: LoadResult) -> float:
    return percentile(result.latencies.get("valid", []), 99) * 1000


def _statuses(results: list[LoadResult]) -> dict[int, int]:
    total: dict[int, int] = {}
    for r in results:
        for status, n in r.statuses.get("valid", {}).items():
            total[status] = total.get(status, 0) + n
    return dict(sorted(total.items()))


def _report_flood(
    results: Results,
    opts: FloodOptions,
    capacity: float,
    quiet: list[LoadResult],
    loud: list[LoadResult],
    floods: list[LoadResult],
    elapsed: float,
) -> None:
    ratio = spread([_p99_ms(b) / _p99_ms(a) for a, b in zip(quiet, loud, strict=True)])
    flooder = _statuses(floods)
    allowed = DEFAULTS.inbox_burst + DEFAULTS.inbox_rate * elapsed
    row: dict[str, Any] = {
        "row": "flood",
        "capacity_per_s": capacity,
        "flood_sent_per_s": spread([f.rate for f in floods]).as_dict(),
        "flood_late": sum(f.late for f in floods),
        "flood_statuses": flooder,
        "flood_accepted_allowed": allowed,
        "victim_rate": opts.victim_rate,
        "quiet_p99_ms": spread([_p99_ms(r) for r in quiet]).as_dict(),
        "flood_p99_ms": spread([_p99_ms(r) for r in loud]).as_dict(),
        "gateway_cpu_quiet": spread([CPU_SHARE[id(r)] for r in quiet]).as_dict(),
        "gateway_cpu_flood": spread([CPU_SHARE[id(r)] for r in loud]).as_dict(),
        "victim_statuses_quiet": _statuses(quiet),
        "victim_statuses_flood": _statuses(loud),
        "ratio": ratio.as_dict(),
    }
    results.add("flood", row)
    sent = spread([f.rate for f in floods])
    q, f = row["quiet_p99_ms"], row["flood_p99_ms"]
    results.line(
        "flood",
        f"one host flooding the inbox at {opts.flood_factor:g}x capacity: another host's "
        f"accept p99 vs quiet (goal <= {FLOOD_GOAL})",
        fmt_ratio(ratio),
        f"p99 {f['median']:.1f} ms vs {q['median']:.1f} ms; flood sent {fmt_num(sent.median)}/s"
        f" of {fmt_num(capacity * opts.flood_factor)}/s asked",
    )
    print(
        f"flood: B at {opts.victim_rate:g}/s, p99 quiet {q['median']:.1f} ms "
        f"({q['min']:.1f}-{q['max']:.1f}), during A's flood {f['median']:.1f} ms "
        f"({f['min']:.1f}-{f['max']:.1f}) -> x{ratio.median:.2f} ({ratio.low:.2f}-{ratio.high:.2f})"
        f", goal <= {FLOOD_GOAL}\n  A sent {sent.median:.0f}/s ({sent.low:.0f}-{sent.high:.0f}) "
        f"asked {capacity * opts.flood_factor:.0f}/s (5x capacity {capacity:.0f}/s), "
        f"{row['flood_late']} sends >1 s late; A's answers {flooder}: accepted "
        f"{flooder.get(202, 0)}, its bucket allows at most {allowed:.0f}; B's answers quiet "
        f"{row['victim_statuses_quiet']}, flood {row['victim_statuses_flood']}; gateway CPU "
        f"quiet {row['gateway_cpu_quiet']['median']:.0%}, flood "
        f"{row['gateway_cpu_flood']['median']:.0%} of a core"
    )
