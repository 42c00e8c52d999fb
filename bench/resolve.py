"""Warm-cache resolution through the backend API: GET /backend/v1/resolve?urn= per second and
its latency, as a ratio to a trivial aiohttp handler (goal >= 0.6); and a batch of 500
cached URNs (POST), as URNs per second against the same trivial handler's requests per second.

The cache is filled directly in the gateway's store (SqliteStore.put_cached with the
resolver's own cache_entry_for) before the gateway starts.

Run: python -m bench resolve [--rounds N]
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import loadgen
from bench.baseline import baseline_server
from bench.common import Results, fmt_mib, fmt_num, fmt_ratio, ratios, spread
from bench.loadgen import Item, http_request
from bench.node import BenchNode
from bench.rounds import Paired, paired_rounds
from federation.activities import RemoteBlock
from federation.resolve.resolver import cache_entry_for
from federation.storage.sqlite import SqliteStore
from federation.urn import BlockUrn

GOAL = 0.6
AUTHORITY = "remote.example"
BATCH = 500
DAY = 86_400.0


@dataclass(frozen=True)
class ResolveOptions:
    rounds: int = 5
    seconds: float = 2.0
    concurrency: int = 32
    cached: int = 1_000


def urn_of(n: int) -> str:
    return str(BlockUrn(AUTHORITY, f"block-{n}"))


def remote_block(n: int) -> RemoteBlock:
    urn = BlockUrn(AUTHORITY, f"block-{n}")
    now = datetime.now(UTC)
    return RemoteBlock(
        id=urn.local_id,
        kind="note",
        title=f"remote block {n}",
        content="x" * 200,
        author="someone",
        visibility="public",
        created_at=now,
        updated_at=now,
        urn=str(urn),
        origin=AUTHORITY,
        object_url=urn.to_url("https"),
    )


async def fill_cache(store: SqliteStore, count: int) -> None:
    now = time.time()
    for n in range(count):
        await store.put_cached(cache_entry_for(remote_block(n), now, DAY))


def resolve_gets(target: str, token: str, urns: int, count: int) -> list[Item]:
    auth = {"Authorization": f"Bearer {token}"}
    return [
        (
            "resolve",
            http_request(
                "GET",
                target,
                f"/backend/v1/resolve?urn={quote(urn_of(n % urns), safe='')}",
                auth,
                b"",
            ),
        )
        for n in range(count)
    ]


def baseline_gets(count: int) -> list[Item]:
    return [("base", http_request("GET", "x", "/resolve", {}, b""))] * count


def start_resolve_node(root: Path, cached: int) -> BenchNode:
    node = BenchNode(root)
    node.write_config()
    node.fill(functools.partial(fill_cache, count=cached))
    node.start_gateway()
    return node


def batch_seconds(node: BenchNode, count: int, cached: int, reps: int) -> list[float]:
    """Wall time of `reps` POSTs of `count` distinct cached URNs each."""
    times = []
    for rep in range(reps + 1):  # the first one warms up
        urns = [urn_of((rep * count + n) % cached) for n in range(count)]
        req = urllib.request.Request(  # noqa: S310 - loopback
            f"{node.url}/backend/v1/resolve",
            json.dumps({"urns": urns}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {node.backend_token}"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            answers = json.loads(resp.read())["results"]
        if rep:
            times.append(time.perf_counter() - start)
        if any(a["status"] != "ok" or not a["cached"] for a in answers):
            raise RuntimeError("batch resolve answered something other than cached blocks")
    return times


def measure_resolve(
    gen: ProcessPoolExecutor, node: BenchNode, base_port: int, opts: ResolveOptions
) -> Paired:
    build = functools.partial(resolve_gets, node.domain, node.backend_token, opts.cached)
    gen.submit(loadgen.prepare, "resolve", build, min(opts.cached, 5_000)).result()
    gen.submit(loadgen.prepare, "base", baseline_gets, 100).result()
    gen.submit(
        loadgen.closed, "resolve", "127.0.0.1", node.port, 1.0, opts.concurrency, True
    ).result()  # warm-up
    return paired_rounds(
        gen,
        base=("base", base_port),
        ours=("resolve", node.port),
        pid=node.gateway_pid,
        rounds=opts.rounds,
        seconds=opts.seconds,
        concurrency=opts.concurrency,
    )


def run(opts: ResolveOptions, results: Results) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-resolve-") as tmp, loadgen.generator() as gen:
        root = Path(tmp)
        with (
            baseline_server(root) as base_port,
            start_resolve_node(root / "gw", opts.cached) as node,
        ):
            paired = measure_resolve(gen, node, base_port, opts)
            batches = batch_seconds(node, BATCH, opts.cached, opts.rounds)
    row = paired.summary("resolve")
    base_rates = [r.rate for r in paired.base]
    batch_rate = ratios([BATCH / t for t in batches], base_rates[: len(batches)])
    row["batch"] = {
        "urns": BATCH,
        "seconds": spread(batches).as_dict(),
        "urns_per_s_ratio": batch_rate.as_dict(),
    }
    results.add("resolve", row)
    o = row["ours_per_s"]
    results.line(
        "resolve",
        f"cached GET resolves/s (goal >= {GOAL})",
        fmt_ratio(paired.ratio),
        f"{fmt_num(o['median'])}/s, p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} "
        f"ms, peak RSS {fmt_mib(row['peak_rss_kib'])}",
    )
    b = spread(batches)
    results.line(
        "resolve",
        f"batch of {BATCH} cached URNs (URNs/s)",
        fmt_ratio(batch_rate),
        f"{b.median * 1000:.0f} ms per batch ({b.low * 1000:.0f}-{b.high * 1000:.0f})",
    )
    print(
        f"resolve: {o['median']:.0f}/s ({o['min']:.0f}-{o['max']:.0f}) vs trivial handler "
        f"{row['base_per_s']['median']:.0f}/s -> ratio {fmt_ratio(paired.ratio)}, goal >= "
        f"{GOAL}; p50 {row['p50_ms']:.1f} ms p99 {row['p99_ms']:.1f} ms; failed "
        f"{row['failed']}; peak RSS {fmt_mib(row['peak_rss_kib'])}"
    )
    print(
        f"  batch of {BATCH}: {b.median * 1000:.0f} ms ({b.low * 1000:.0f}-{b.high * 1000:.0f})"
        f", URNs/s vs trivial requests/s {fmt_ratio(batch_rate)}"
    )
    return row
