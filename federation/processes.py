"""Starting and stopping `federation` processes: the one launcher, for `serve --processes`,
`federation dev`, and (as they move to it) the tests' and benchmarks' process helpers.

`serve --processes N` is a small supervisor: N `serve` processes of one instance, the same
command a user runs, listening on one port with SO_REUSEPORT (the kernel spreads connections
over them) and sharing one store (SQLite in WAL mode with a busy timeout, or MongoDB); each
runs the job queue, and a process that dies has its jobs taken over by the others within the
takeover window (jobs/liveness.py) while the supervisor starts another in its place.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from federation.errors import FederationError

log = logging.getLogger("federation.processes")

RESTART_PAUSE = 1.0  # seconds between restarts of one slot, so a crash loop cannot spin


def cli(*args: str) -> list[str]:
    """The command line of `federation <args>` run by this interpreter."""
    return [sys.executable, "-m", "federation.cli", *args]


def spawn(
    command: Sequence[str],
    *,
    log_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    own_session: bool = True,
) -> subprocess.Popen[bytes]:
    """Start `command`; `env` adds to this process's environment. In its own session (the
    default) a terminal's Ctrl-C reaches only us, and stop() signals its whole group."""
    out = open(log_file, "ab") if log_file is not None else None  # the child inherits its own copy
    try:
        return subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
            start_new_session=own_session,
        )
    finally:
        if out is not None:
            out.close()


def wait_ready(
    url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0, *, log: Path | None = None
) -> None:
    """Until `url` answers 200; FederationError if the process exits or the time runs out,
    with the process's `log` (its output file) when given, so the error says why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FederationError(
                f"process for {url} exited with code {proc.returncode}{_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise FederationError(f"{url} did not become ready within {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None) -> str:
    return "" if log is None else f":\n{log.read_text(errors='replace')}"


def stop(procs: Sequence[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    """SIGTERM each running process (its group when it leads one), then SIGKILL what is
    still running after `timeout`."""
    for proc in procs:
        if proc.poll() is None:
            _signal(proc, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            proc.wait(timeout=5)


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass  # exited meanwhile


def process_count(value: str) -> int:
    """`--processes`: a number, or "auto" for one per CPU this process may run on."""
    if value == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    count = int(value)
    if count < 1:
        raise ValueError("at least 1")
    return count


class Supervisor:
    """Keeps `count` copies of one command running until SIGTERM/SIGINT, then stops them.
    `env_of(slot)` gives each its own extra environment (e.g. a metrics port)."""

    def __init__(
        self, command: Sequence[str], count: int, env_of: Mapping[int, Mapping[str, str]]
    ) -> None:
        self._command = list(command)
        self._count = count
        self._env_of = env_of
        self._procs: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop_requested)
        try:
            self._procs = [self._start(slot) for slot in range(self._count)]
            while not self._stopping:
                time.sleep(0.2)
                self._restart_exited()
        finally:
            stop(self._procs)

    def _start(self, slot: int) -> subprocess.Popen[bytes]:
        # Same process group as us: a terminal's Ctrl-C, or a kill of our group, reaches all.
        return spawn(self._command, env=self._env_of.get(slot), own_session=False)

    def _restart_exited(self) -> None:
        for slot, proc in enumerate(self._procs):
            if proc.poll() is None or self._stopping:
                continue
            log.warning(
                "process %d (pid %d) exited with code %s; starting another",
                slot,
                proc.pid,
                proc.returncode,
            )
            time.sleep(RESTART_PAUSE)
            self._procs[slot] = self._start(slot)

    def _stop_requested(self, signum: int, frame: object) -> None:
        self._stopping = True
