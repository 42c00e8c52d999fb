"""Fan-out: deliveries per second of one public block to 1,000 followers on 50 receiving hosts
(20 personal inboxes each, so 1,000 signed POSTs really happen), as a ratio to the raw
RSA-2048 signing rate of `cryptography` on the same cores in the same run. Goal: >= 0.8.

Two rows: the gateway pinned to one core (against raw signing on that core), and the gateway
given both cores (against raw signing on both at once, one process per core), which shows
whether fan-out uses every core the process is given. In the two-core row the receivers and
the backend share those cores with the gateway, as they would on a small host.

The block is created through the reference backend, whose reporter posts the event to the
gateway: the timed span runs from that create to the last POST arriving.

Run: python -m bench fanout [--rounds N]
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.common import (
    CLIENT_CPU,
    SERVER_CPU,
    Results,
    RssSampler,
    fmt_mib,
    fmt_num,
    fmt_ratio,
    pin,
    ratios,
    spread,
)
from bench.followers import followers, put_follows
from bench.node import BenchNode
from bench.receivers import Receivers
from federation.records import Follow

GOAL = 0.8
# What the gateway signs per delivery: a cavage signing string of about this size.
SIGNING_STRING = (
    b"(request-target): post /users/12/inbox\nhost: 127.0.0.1:40000\n"
    b"date: Tue, 14 Nov 2023 22:13:20 GMT\n"
    b"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    b"content-type: application/activity+json"
)


@dataclass(frozen=True)
class FanoutOptions:
    rounds: int = 5
    hosts: int = 50
    per_host: int = 20


# The rows: a label and the CPUs the gateway (and the raw signers, one per CPU) are given.
ONE_CORE = ("1 core", (SERVER_CPU,), 0)
BOTH_CORES = ("2 cores", (SERVER_CPU, CLIENT_CPU), 0)
# A process's event loop, not signing, bounds a fan-out: a worker process (`serve --role
# worker`) beside the gateway gives the deliveries a second event loop on the second core.
BOTH_CORES_WORKER = ("2 cores, gateway + 1 worker process", (SERVER_CPU, CLIENT_CPU), 1)


def _pin_server() -> None:
    pin(0, SERVER_CPU)


def raw_rsa_rate(seconds: float, start_at: float = 0.0) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second, timed from wall-clock `start_at`
    (so that signers on several cores measure the same window)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    time.sleep(max(0.0, start_at - time.time()))
    count, start = 0, time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        key.sign(SIGNING_STRING, pkcs1, sha256)
        count += 1
    return count / (now - start)


def start_fanout_node(
    root: Path,
    follows: list[Follow],
    cpus: tuple[int, ...],
    workers: int = 0,
    processes: int = 1,
) -> BenchNode:
    """A gateway on `cpus` whose store holds `follows`, with `workers` worker processes beside
    it, or `serve --processes N` when `processes` > 1."""
    node = BenchNode(root)
    node.write_config()
    node.fill(functools.partial(put_follows, follows=follows))
    node.start_backend()
    node.start_gateway(cpus=cpus, processes=processes)
    for _ in range(workers):
        node.start_worker(cpus)
    return node


def create_block(node: BenchNode, title: str) -> None:
    body = {
        "kind": "note",
        "title": title,
        "content": "x" * 200,
        "author": "bench",
        "visibility": "public",
    }
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.backend_port}/api/v1/blocks",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {node.backend_token}"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
        resp.read()


def one_fanout(node: BenchNode, receivers: Receivers, expected: int, title: str) -> float:
    """Seconds from creating a public block to its `expected` deliveries all arriving."""
    target = receivers.count + expected
    start = time.perf_counter()
    create_block(node, title)
    receivers.wait_for(target, timeout=max(120.0, expected / 20))
    return time.perf_counter() - start


class RawSigners:
    """One signing process pinned to each CPU; `rate()` is their summed rate over one shared
    one-second window."""

    def __init__(self, cpus: tuple[int, ...]) -> None:
        ctx = get_context("spawn")
        self._pools = [
            ProcessPoolExecutor(1, mp_context=ctx, initializer=pin, initargs=(0, cpu))
            for cpu in cpus
        ]

    def rate(self) -> float:
        start_at = time.time() + 0.5  # after every signer has made its key
        futures = [pool.submit(raw_rsa_rate, 1.0, start_at) for pool in self._pools]
        return sum(f.result() for f in futures)

    def __enter__(self) -> RawSigners:
        return self

    def __exit__(self, *exc: object) -> None:
        for pool in self._pools:
            pool.shutdown()


def measure(
    opts: FanoutOptions, root: Path, cpus: tuple[int, ...], workers: int = 0
) -> dict[str, Any]:
    expected = opts.hosts * opts.per_host
    rates: list[float] = []
    raw: list[float] = []
    with (
        Receivers(opts.hosts) as receivers,
        RawSigners(cpus) as signers,
        start_fanout_node(
            root, followers(receivers.ports, opts.per_host, time.time()), cpus, workers
        ) as node,
    ):
        one_fanout(node, receivers, expected, "warm-up")
        with RssSampler(node.gateway_pid) as rss:
            for n in range(opts.rounds):
                raw.append(signers.rate())
                rates.append(expected / one_fanout(node, receivers, expected, f"round {n}"))
        peak = rss.peak
    return {
        "cpus": list(cpus),
        "deliveries": expected,
        "hosts": opts.hosts,
        "ours_per_s": spread(rates).as_dict(),
        "raw_rsa_sign_per_s": spread(raw).as_dict(),
        "ratio": ratios(rates, raw).as_dict(),
        "peak_rss_kib": peak,
        "seconds_per_fanout": expected / spread(rates).median,
    }


def run(opts: FanoutOptions, results: Results) -> list[dict[str, Any]]:
    rows = []
    for label, cpus, workers in (ONE_CORE, BOTH_CORES, BOTH_CORES_WORKER):
        with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
            row = {"label": label, **measure(opts, Path(tmp), cpus, workers)}
        results.add("fanout", row)
        report(row, results)
        rows.append(row)
    return rows


def report(row: dict[str, Any], results: Results) -> None:
    o, r, s = row["ours_per_s"], row["raw_rsa_sign_per_s"], row["ratio"]
    ratio = spread([s["min"], s["median"], s["max"]])
    results.line(
        "fanout",
        f"deliveries/s, {row['deliveries']} inboxes, {row['label']} (goal >= {GOAL})",
        fmt_ratio(ratio),
        f"{fmt_num(o['median'])}/s ({row['seconds_per_fanout']:.2f} s per fan-out), "
        f"peak RSS {fmt_mib(row['peak_rss_kib'])}",
    )
    print(
        f"fanout ({row['label']}): {row['deliveries']} deliveries to {row['hosts']} hosts: "
        f"{o['median']:.0f}/s ({o['min']:.0f}-{o['max']:.0f}) vs raw RSA-2048 sign on the "
        f"same cores {r['median']:.0f}/s ({r['min']:.0f}-{r['max']:.0f}) -> ratio "
        f"{s['median']:.2f} ({s['min']:.2f}-{s['max']:.2f}), goal >= {GOAL}; "
        f"peak RSS {fmt_mib(row['peak_rss_kib'])}"
    )
