"""Shared benchmark plumbing: real processes pinned to CPUs, RSS and CPU sampling, statistics.

The server under test runs pinned to CPU 0 and the load generator to CPU 1, so on a two-core
machine the generator never steals the server's core. Every figure is reported as a ratio to
a baseline measured in the same run, with its spread over rounds, and as an absolute number.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from federation import processes

SERVER_CPU = 0
CLIENT_CPU = 1


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Median and range of a series of per-round measurements."""

    median: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "rounds": self.n}


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("no measurements")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def ratios(ours: Sequence[float], base: Sequence[float]) -> Spread:
    """Per-round ratio ours/base (rounds paired), summarised."""
    if len(ours) != len(base):
        raise ValueError("ours and base must pair up round by round")
    return spread([o / b if b else 0.0 for o, b in zip(ours, base, strict=True)])


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def fmt_ratio(s: Spread) -> str:
    """`0.42 (0.40-0.44)`: median and range."""
    return f"{s.median:.2f} ({s.low:.2f}-{s.high:.2f})"


def fmt_num(value: float) -> str:
    """A compact absolute figure: 12,345 / 123.4 / 1.23."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


# -- results ---------------------------------------------------------------------------------


@dataclass
class Results:
    """Every bench appends rows here; `summary` rows make the final table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summary: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, bench: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(bench, []).append(row)

    def line(self, bench: str, metric: str, ratio: str, absolute: str) -> None:
        self.summary.append((bench, metric, ratio, absolute))

    def write_json(self, path: Path) -> None:
        data = {"machine": machine(), "results": self.rows, "summary": self.summary}
        path.write_text(json.dumps(data, indent=2, default=str) + "\n")

    def print_summary(self) -> None:
        print(table(("bench", "metric", "ratio to baseline", "absolute"), self.summary))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(pid: int, cpu: int | Collection[int]) -> None:
    """Pin a process (0: this one) to one CPU, or a set, of those the machine has; no-op
    elsewhere."""
    cpus = {cpu} if isinstance(cpu, int) else set(cpu)
    present = {c for c in cpus if c < (os.cpu_count() or 1)}
    if hasattr(os, "sched_setaffinity") and present:
        os.sched_setaffinity(pid, present)


def spawn(
    args: Sequence[str],
    *,
    cpu: int | Collection[int],
    log: Path,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `python <args>` in its own session, pinned to `cpu` (one or a set), output to
    `log`; `env` is added to this process's environment."""
    proc = processes.spawn([sys.executable, *args], log_file=log, env=env)
    pin(proc.pid, cpu)
    return proc


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the process group we started, SIGKILL if it lingers."""
    if proc is not None:
        processes.stop([proc])


@contextmanager
def running(
    args: Sequence[str], *, cpu: int, log: Path, health: str
) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn(args, cpu=cpu, log=log)
    try:
        processes.wait_ready(health, proc, log=log)
        yield proc
    finally:
        stop(proc)


# -- memory and CPU --------------------------------------------------------------------------


def status_kib(pid: int, field_name: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM); 0 when unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so a peak belongs to one load."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Samples VmRSS every `interval` s in a thread; `peak` is the max of samples and VmHWM."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        reset_peak(self.pid)
        self.samples.append(status_kib(self.pid, "VmRSS"))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(status_kib(self.pid, "VmRSS"))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(status_kib(self.pid, "VmRSS"))

    @property
    def start(self) -> int:
        return self.samples[0] if self.samples else 0

    @property
    def settled(self) -> int:
        """RSS a tenth of the way in: the start of a long run, past its warm-up."""
        return self.samples[len(self.samples) // 10] if self.samples else 0

    @property
    def end(self) -> int:
        return self.samples[-1] if self.samples else 0

    @property
    def peak(self) -> int:
        return max([*self.samples, status_kib(self.pid, "VmHWM")])


def micro_args(doc: str | None) -> argparse.Namespace:
    """`--rounds` and `--seconds` (per measurement) of a micro-benchmark run as its own module
    (`python -m bench.proofs`), its help the first line of the module's `doc`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    return parser.parse_args()
