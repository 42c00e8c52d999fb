"""Inbox throughput: signed Creates accepted per second by one gateway process (embedded store),
as a ratio to a trivial aiohttp handler on the same core. Goals: >= 0.5 for the accept path
(web role), >= 0.25 for the whole pipeline.

The peer is followed (its Creates are stored and passed on to the reference backend), its key
is in the gateway's cache, and every request is signed before the timed window with a unique
activity id and a fresh Date. Two rows: the whole pipeline in one process (`--role all`: the
same core also stores every block and notifies the backend), and the accept path alone
(`--role web`: verified and durably recorded, the processing left to worker processes).

Run: python -m bench inbox [--rounds N] [--seconds S] [--peer-key rsa|ed25519]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.baseline import baseline_server
from bench.common import SERVER_CPU, Results, fmt_mib, fmt_num, fmt_ratio, spread
from bench.node import BenchNode
from bench.peer import Peer, make_peer, signed_creates
from bench.rounds import Paired, drain_seconds, paired_rounds
from federation.storage.sqlite import SqliteStore

# Goals per role: the accept path alone, and the whole pipeline in one process.
GOALS = {"web": 0.5, "all": 0.25}


@dataclass(frozen=True)
class InboxOptions:
    rounds: int = 5
    seconds: float = 2.0
    concurrency: int = 32
    peer_key: str = "ed25519"
    peer_proofs: bool = False
    peer_fedify: bool = False  # RFC 9421, a proof, then an LD signature: a Fedify server's


def start_inbox_node(
    root: Path,
    peer: Peer,
    role: str = "all",
    env: dict[str, str] | None = None,
    cpus: tuple[int, ...] = (SERVER_CPU,),
    processes: int = 1,
    **extra: Any,
) -> BenchNode:
    """A gateway that follows `peer` and holds its key; backend and gateway running (`env`:
    added to the gateway's environment; `cpus`, `processes`: as BenchNode.start_gateway)."""
    node = BenchNode(root, extra=extra)
    node.write_config()

    async def fill(store: SqliteStore) -> None:
        now = time.time()
        await store.put_key(peer.remote_key(now))
        await store.put_follow(peer.following(now))

    node.fill(fill)
    node.start_backend()
    node.start_gateway(role, env, cpus, processes)
    return node


def measure_inbox(
    gen: ProcessPoolExecutor, node: BenchNode, peer: Peer, base_port: int, opts: InboxOptions
) -> tuple[Paired, float]:
    """Paired rounds against the baseline; then how long the gateway needs to finish the
    background work (store the blocks, notify the backend) that the accepted requests left."""
    build = functools.partial(signed_creates, peer, node.domain)
    gen.submit(loadgen.prepare, "base", functools.partial(signed_creates, peer, "x"), 256).result()

    def refill(count: int) -> None:
        have = gen.submit(loadgen.remaining, "inbox").result()
        if count > have:
            gen.submit(loadgen.prepare, "inbox", build, count - have).result()

    refill(300)  # warm-up: first connections, key cache, SQLite pages
    warm = gen.submit(loadgen.closed, "inbox", "127.0.0.1", node.port, 1.0, opts.concurrency)
    expected = warm.result().rate
    paired = paired_rounds(
        gen,
        base=("base", base_port),
        ours=("inbox", node.port),
        pid=node.gateway_pid,
        rounds=opts.rounds,
        seconds=opts.seconds,
        concurrency=opts.concurrency,
        refill=refill,
        expected=expected,
    )
    if node.role == "web":
        return paired, 0.0  # no worker in this process: the records wait for one
    return paired, drain_seconds(node.store_path)


def run(opts: InboxOptions, results: Results) -> dict[str, Any]:
    """The inbox rows; bench/__main__ runs bench/telemetry's rows (built on these) after."""
    row = _run_role(opts, results, "all", "signed Creates accepted/s, whole pipeline")
    _run_role(opts, results, "web", "signed Creates accepted/s, accept path (web role)")
    return row


def _run_role(opts: InboxOptions, results: Results, role: str, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as tmp, loadgen.generator() as gen:
        root = Path(tmp)
        peer = make_peer(opts.peer_key, proofs=opts.peer_proofs, fedify=opts.peer_fedify)
        with (
            baseline_server(root) as base_port,
            start_inbox_node(root / "gw", peer, role) as node,
        ):
            paired, drain = measure_inbox(gen, node, peer, base_port, opts)
    row = {
        "role": role,
        "peer_key": opts.peer_key,
        "peer_proofs": peer.proofs,
        "peer_fedify": peer.fedify,
        **paired.summary("valid"),
    }
    if role != "web":  # a web-role gateway leaves the processing to workers: nothing drains
        row["drain_after_s"] = drain
    results.add("inbox", row)
    ours = spread([r.rate for r in paired.ours])
    results.line(
        "inbox",
        f"{label}{_peer_label(peer)} (goal >= {GOALS[role]})",
        fmt_ratio(paired.ratio),
        f"{fmt_num(ours.median)}/s, p99 {row['p99_ms']:.1f} ms, "
        f"peak RSS {fmt_mib(paired.peak_rss_kib)}",
    )
    print_inbox(row)
    return row


def _peer_label(peer: Any) -> str:
    if peer.fedify:
        return ", Fedify-shaped activities (RFC 9421, proof, then LD signature)"
    return ", peer sends proofs" if peer.proofs else ""


def print_inbox(row: dict[str, Any]) -> None:
    r, o, b = row["ratio"], row["ours_per_s"], row["base_per_s"]
    print(
        f"inbox ({row['role']} role, {row['peer_key']} peer"
        f"{' Fedify-shaped' if row.get('peer_fedify') else ''}"
        f"{' with proofs' if row.get('peer_proofs') else ''}): {o['median']:.0f}/s "
        f"({o['min']:.0f}-{o['max']:.0f}) vs trivial handler {b['median']:.0f}/s "
        f"-> ratio {r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f}), "
        f"goal >= {GOALS[row['role']]}"
    )
    cpu = row["gateway_cpu_share"]
    print(
        f"  latency p50 {row['p50_ms']:.1f} ms p99 {row['p99_ms']:.1f} ms; "
        f"{row['requests']} requests, {row['failed']} failed; gateway CPU "
        f"{cpu['median'] * 100:.0f}% of a core; peak RSS {fmt_mib(row['peak_rss_kib'])}"
        + (
            f"; background work drained {row['drain_after_s']:.1f} s after the last round"
            if "drain_after_s" in row
            else ""
        )
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per window")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--peer-key", choices=["ed25519", "rsa"], default="ed25519")
    parser.add_argument(
        "--peer-proofs",
        action="store_true",
        help="the peer also proves each activity (FEP-8b32): prices verifying proofs",
    )
    parser.add_argument(
        "--peer-fedify",
        action="store_true",
        help="the peer sends what a Fedify server sends: RFC 9421, a proof, an LD signature",
    )


def from_args(args: argparse.Namespace) -> InboxOptions:
    return InboxOptions(
        args.rounds,
        args.seconds,
        args.concurrency,
        args.peer_key,
        args.peer_proofs,
        args.peer_fedify,
    )
