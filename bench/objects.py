"""Object reads: GET /blocks/{id} (ActivityStreams, signed with our eddsa-jcs-2022 proof) per
second, as a ratio to a trivial aiohttp GET handler in the same run (goal >= 0.5).

Every read asks the reference backend (the system of record: a block made private must be a 404
on the very next read); what the gateway can skip is rendering an unchanged block again. A
second ratio puts that cost apart: the gateway against a trivial handler that also makes one
backend GET per request and passes the answer on (bench/baseline.py's /proxy), the ceiling for
any server that asks its backend on every read.

Run: python -m bench objects [--rounds N]
"""

from __future__ import annotations

import functools
import json
import tempfile
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.baseline import baseline_server
from bench.common import Results, fmt_mib, fmt_num, fmt_ratio
from bench.loadgen import Item, http_request
from bench.node import BenchNode
from bench.rounds import Paired, paired_rounds

GOAL = 0.5


@dataclass(frozen=True)
class ObjectsOptions:
    rounds: int = 5
    seconds: float = 2.0
    concurrency: int = 32
    blocks: int = 200


def create_blocks(node: BenchNode, count: int) -> list[str]:
    ids = []
    for n in range(count):
        body = {"title": f"block {n}", "content": "x" * 400, "visibility": "public"}
        req = urllib.request.Request(
            f"http://127.0.0.1:{node.backend_port}/api/v1/blocks",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {node.backend_token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            ids.append(json.loads(resp.read())["id"])
    return ids


def block_gets(target: str, ids: list[str], count: int) -> list[Item]:
    accept = {"Accept": "application/activity+json"}
    return [
        ("object", http_request("GET", target, f"/blocks/{ids[n % len(ids)]}", accept, b""))
        for n in range(count)
    ]


def baseline_gets(count: int) -> list[Item]:
    return [("base", http_request("GET", "x", "/resolve", {}, b""))] * count


def proxy_gets(ids: list[str], count: int) -> list[Item]:
    return [
        ("proxy", http_request("GET", "x", f"/proxy/{ids[n % len(ids)]}", {}, b""))
        for n in range(count)
    ]


def measure(
    gen: ProcessPoolExecutor,
    node: BenchNode,
    base: tuple[str, int],
    ids: list[str],
    opts: ObjectsOptions,
) -> Paired:
    build = functools.partial(block_gets, node.domain, ids)
    gen.submit(loadgen.prepare, "object", build, 5_000).result()
    gen.submit(
        loadgen.closed, "object", "127.0.0.1", node.port, 1.0, opts.concurrency, True
    ).result()  # warm-up
    return paired_rounds(
        gen,
        base=base,
        ours=("object", node.port),
        pid=node.gateway_pid,
        rounds=opts.rounds,
        seconds=opts.seconds,
        concurrency=opts.concurrency,
    )


def run(opts: ObjectsOptions, results: Results) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-objects-") as tmp, loadgen.generator() as gen:
        root = Path(tmp)
        node = BenchNode(root / "gw")
        node.write_config()
        upstream = f"http://127.0.0.1:{node.backend_port}/api/v1/blocks"
        with (
            baseline_server(root) as base_port,
            baseline_server(root, upstream, node.backend_token) as proxy_port,
            node,
        ):
            node.start_backend()
            ids = create_blocks(node, opts.blocks)
            node.start_gateway()
            gen.submit(loadgen.prepare, "base", baseline_gets, 100).result()
            gen.submit(loadgen.prepare, "proxy", functools.partial(proxy_gets, ids), 5_000).result()
            paired = measure(gen, node, ("base", base_port), ids, opts)
            vs_proxy = measure(gen, node, ("proxy", proxy_port), ids, opts)
    row = paired.summary("objects")
    row["goal"] = GOAL
    row["vs_proxy"] = vs_proxy.summary("objects-vs-proxy")
    results.add("objects", row)
    o = row["ours_per_s"]
    results.line(
        "objects",
        f"GET /blocks/{{id}} reads/s (goal >= {GOAL})",
        fmt_ratio(paired.ratio),
        f"{fmt_num(o['median'])}/s, peak RSS {fmt_mib(row['peak_rss_kib'])}",
    )
    print(
        f"objects: {o['median']:.0f}/s ({o['min']:.0f}-{o['max']:.0f}) vs trivial handler "
        f"{row['base_per_s']['median']:.0f}/s -> ratio {fmt_ratio(paired.ratio)}, goal >= "
        f"{GOAL}; failed {row['failed']}"
    )
    p = row["vs_proxy"]
    results.line(
        "objects",
        "GET /blocks/{id} vs a handler making one backend GET",
        fmt_ratio(vs_proxy.ratio),
        f"proxy {fmt_num(p['base_per_s']['median'])}/s (the ceiling with a backend read each)",
    )
    print(
        f"objects vs proxy: {p['ours_per_s']['median']:.0f}/s vs a handler making one backend GET"
        f" {p['base_per_s']['median']:.0f}/s -> ratio {fmt_ratio(vs_proxy.ratio)}"
    )
    return row
