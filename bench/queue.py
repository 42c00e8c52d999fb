"""Delivery-queue benchmark: claims per second with 1, 2 and 4 worker processes, and claim
latency with a large queue against a small one, on SQLite and on a MongoDB-wire server.

    python -m bench.queue [--quick] [--mongodb-url mongodb://host:27017]

Each worker process opens its own store (as a gateway worker does) and loops claim(10) then
settles every job with retry(due now), so the queue keeps its size and the run measures the
steady state. Latency is the median of single-job claims. The latency ratio large/small
should stay near 1: the claim index finds the next due job without scanning the queue.

Without --mongodb-url the MongoDB column runs on mongoeco (scripts/setup-mongoeco), a
Python stand-in whose inserts cost O(collection size), so its "large" queue is small; its
absolute figures say nothing about a real MongoDB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import table
from bench.mongoeco import available, start_mongoeco
from federation.ports import Store
from federation.records import NewJob
from federation.storage.mongodb import MongoStore
from federation.storage.sqlite import SqliteStore

SMALL = 100
WORKERS = (1, 2, 4)
BATCH = 10  # jobs per claim in the throughput runs
LEASE = 30.0
FILL_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str  # "sqlite" | "mongodb"
    location: str  # a file path or a mongodb:// URL naming a database
    large: int  # queue size for the large-queue latency


def open_store(kind: str, location: str) -> Store:
    return SqliteStore(location) if kind == "sqlite" else MongoStore(location)


async def _fill(store: Store, start: int, count: int) -> None:
    for first in range(start, start + count, FILL_CHUNK):
        last = min(first + FILL_CHUNK, start + count)
        jobs = [
            NewJob(
                kind="deliver", dedupe_key=f"bench:{n}", payload={"n": n}, host=f"h{n % 16}.example"
            )
            for n in range(first, last)
        ]
        await store.enqueue(jobs, time.time())


async def _claim_latency(store: Store, claims: int) -> float:
    """Median seconds of claim(limit=1); each job is put back due now, keeping the size."""
    samples = []
    for _ in range(claims):
        started = time.perf_counter()
        jobs = await store.claim("latency", time.time(), LEASE, 1)
        samples.append(time.perf_counter() - started)
        for job in jobs:
            await store.retry(job.id, "latency", time.time(), "bench", time.time())
    return statistics.median(samples)


async def _claim_loop(kind: str, location: str, owner: str, duration: float, go: Barrier) -> int:
    store = open_store(kind, location)
    await store.open()
    try:
        await asyncio.to_thread(go.wait)  # every worker connected: start together
        claimed, deadline = 0, time.perf_counter() + duration
        while time.perf_counter() < deadline:
            jobs = await store.claim(owner, time.time(), LEASE, BATCH)
            for job in jobs:
                await store.retry(job.id, owner, time.time(), "bench", time.time())
            claimed += len(jobs)
        return claimed
    finally:
        await store.close()


def _worker(kind: str, location: str, owner: str, duration: float, go: Any, out: Any) -> None:
    out.put(asyncio.run(_claim_loop(kind, location, owner, duration, go)))


def claims_per_second(target: Target, workers: int, duration: float) -> float:
    """Total jobs claimed (and settled) per second by `workers` processes at once."""
    ctx = multiprocessing.get_context("spawn")  # no event loop or client crosses a fork
    go, out = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(target.kind, target.location, f"w{n}", duration, go, out))
        for n in range(workers)
    ]
    for proc in procs:
        proc.start()
    go.wait(timeout=120)
    total = sum(out.get(timeout=duration + 120) for _ in procs)
    for proc in procs:
        proc.join(timeout=30)
    return float(total) / duration


async def _latencies(target: Target, claims: int) -> tuple[float, float]:
    """Claim latency at SMALL queued jobs, then at target.large (the store keeps the jobs)."""
    store = open_store(target.kind, target.location)
    await store.open()
    try:
        await _fill(store, 0, SMALL)
        small = await _claim_latency(store, claims)
        await _fill(store, SMALL, target.large - SMALL)
        large = await _claim_latency(store, claims)
        return small, large
    finally:
        await store.close()


async def _drop(target: Target) -> None:
    if target.kind == "mongodb":
        store = MongoStore(target.location)
        await store.open()
        await store.drop_database()
        await store.close()


def run_target(target: Target, duration: float, claims: int) -> dict[str, Any]:
    print(f"queue: {target.name}: latency at {SMALL} and {target.large:,} jobs ...", flush=True)
    small, large = asyncio.run(_latencies(target, claims))
    rates = {}
    for workers in WORKERS:
        print(f"queue: {target.name}: {workers} worker(s) for {duration} s ...", flush=True)
        rates[workers] = claims_per_second(target, workers, duration)
    asyncio.run(_drop(target))
    return {"target": target, "rates": rates, "small": small, "large": large}


def database_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    name = f"bench_queue_{uuid.uuid4().hex[:8]}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def report(rows: Sequence[dict[str, Any]]) -> str:
    header = ("store", *(f"claims/s {w}w" for w in WORKERS), "4w/1w", "claim ms", "ratio")
    lines = []
    for row in rows:
        rates, target = row["rates"], row["target"]
        lines.append(
            (
                target.name,
                *(f"{rates[w]:,.0f}" for w in WORKERS),
                f"{rates[4] / rates[1]:.2f}",
                f"{row['small'] * 1e3:.2f} @{SMALL} / {row['large'] * 1e3:.2f} @{target.large:,}",
                f"{row['large'] / row['small']:.2f}",
            )
        )
    return table(header, lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.queue", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    parser.add_argument("--mongodb-url", help="a real MongoDB (default: start mongoeco)")
    args = parser.parse_args(argv)
    duration, claims = (0.5, 50) if args.quick else (2.0, 200)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        sqlite = Target("sqlite", "sqlite", str(Path(tmp) / "queue.sqlite3"), 100_000)
        rows.append(run_target(sqlite, duration, claims))
    rows += _mongodb_rows(args.mongodb_url, duration, claims, quick=args.quick)
    print(report(rows))
    if not args.mongodb_url:
        print(
            "mongoeco scans its collection on every query (no index walk), so its latency"
            " grows with the queue; pass --mongodb-url for real MongoDB figures."
        )


def _mongodb_rows(url: str | None, duration: float, claims: int, *, quick: bool) -> list[Any]:
    if url:
        target = Target("mongodb", "mongodb", database_url(url), 100_000)
        return [run_target(target, duration, claims)]
    if not available():
        print("queue: mongodb skipped: run scripts/setup-mongoeco or pass --mongodb-url")
        return []
    server = start_mongoeco()
    try:
        large = 300 if quick else 1_000  # mongoeco inserts cost O(n): 100k would take hours
        target = Target("mongoeco (wire)", "mongodb", database_url(server.url), large)
        return [run_target(target, duration, claims)]
    finally:
        server.stop()


if __name__ == "__main__":
    main()
