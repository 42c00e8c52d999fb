"""Run a local federation: each instance's reference backend and gateway as child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from federation.config import Settings, load_settings
from federation.errors import FederationError


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "federation.cli", *args],
        start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FederationError(f"process for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1.0) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise FederationError(f"{url} did not become ready within {timeout:.0f} s")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _describe(s: Settings) -> str:
    backend = s.local_url(s.backend_listen_port)
    return (
        f"{s.name:8} gateway {s.base_url}  actor {s.base_url}/actor  "
        f"backend {backend}  mode {s.mode.value}"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_devnet(files: list[Path]) -> None:
    settings = [load_settings(f) for f in files]
    procs: list[subprocess.Popen[bytes]] = []
    # SIGTERM (from a supervisor, or `timeout`) stops the children as Ctrl-C does: they run
    # in their own sessions, so nothing else would reach them.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for f, s in zip(files, settings, strict=True):
            backend = _spawn(["backend", "serve", "--instance", str(f)])
            procs.append(backend)
            gateway = _spawn(["serve", "--instance", str(f)])
            procs.append(gateway)
            wait_ready(f"{s.local_url(s.listen_port)}/healthz", gateway)
            wait_ready(f"{s.local_url(s.backend_listen_port)}/healthz", backend)
        lines = ["", "local federation running (Ctrl-C stops it):"]
        lines += ["  " + _describe(s) for s in settings]
        print("\n".join(lines) + "\n", flush=True)  # one write: readers see it whole
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise FederationError("a child process exited; stopping the federation")
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        _stop(procs)
