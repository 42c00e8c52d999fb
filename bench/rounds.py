"""Paired rounds: baseline then gateway, same load generator, same core, round after round."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import RssSampler, Spread, cpu_seconds, percentile, ratios, spread
from bench.loadgen import LoadResult

Refill = Callable[[int], None]  # called before a gateway round with the requests it may need


@dataclass
class Paired:
    base: list[LoadResult] = field(default_factory=list)
    ours: list[LoadResult] = field(default_factory=list)
    cpu_share: list[float] = field(default_factory=list)  # gateway CPU use in its windows
    peak_rss_kib: int = 0

    @property
    def ratio(self) -> Spread:
        return ratios([r.rate for r in self.ours], [r.rate for r in self.base])

    def summary(self, tag: str) -> dict[str, Any]:
        lat = [x for r in self.ours for x in r.latencies.get(tag, [])]
        bad = sum(n for r in self.ours for s, n in r.statuses.get(tag, {}).items() if s >= 300)
        return {
            "ours_per_s": spread([r.rate for r in self.ours]).as_dict(),
            "base_per_s": spread([r.rate for r in self.base]).as_dict(),
            "ratio": self.ratio.as_dict(),
            "p50_ms": percentile(lat, 50) * 1000,
            "p99_ms": percentile(lat, 99) * 1000,
            "requests": sum(r.count for r in self.ours),
            "failed": bad + sum(r.errors for r in self.ours),
            "gateway_cpu_share": spread(self.cpu_share).as_dict() if self.cpu_share else None,
            "peak_rss_kib": self.peak_rss_kib,
        }


def paired_rounds(
    gen: ProcessPoolExecutor,
    *,
    base: tuple[str, int],  # (pool name, port)
    ours: tuple[str, int],
    pid: int,
    rounds: int,
    seconds: float,
    concurrency: int,
    refill: Refill | None = None,
    expected: float = 0.0,
) -> Paired:
    """`rounds` x (baseline window, gateway window); the gateway pool is consumed (unique
    requests) when `refill` is given, cycled otherwise."""
    paired = Paired()
    with RssSampler(pid) as rss:
        for _ in range(rounds):
            b = gen.submit(
                loadgen.closed, base[0], "127.0.0.1", base[1], seconds, concurrency, True
            ).result()
            paired.base.append(b)
            if refill is not None:
                refill(int((expected or b.rate) * seconds * 1.3) + concurrency)
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            o = gen.submit(
                loadgen.closed, ours[0], "127.0.0.1", ours[1], seconds, concurrency, refill is None
            ).result()
            paired.cpu_share.append((cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0))
            paired.ours.append(o)
            expected = max(expected, o.rate)
    paired.peak_rss_kib = rss.peak
    return paired


def queued_jobs(store: Path) -> int:
    """Jobs due and not done in a gateway's SQLite store (read beside the running gateway);
    jobs queued for later (a backlog, a retry) are not counted."""
    sql = "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND next_attempt_at <= ?"
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute(sql, (time.time(),)).fetchone()[0])


def drain_seconds(store: Path, timeout: float = 120.0) -> float:
    """How long until the gateway's queue is empty (its background work done)."""
    start = time.perf_counter()
    while queued_jobs(store) and time.perf_counter() - start < timeout:
        time.sleep(0.05)
    return time.perf_counter() - start
