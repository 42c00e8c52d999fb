"""Run a local federation: each instance's reference backend and gateway as child processes."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from federation.config import Settings, load_settings
from federation.errors import FederationError
from federation.processes import cli, spawn, stop, wait_ready


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return spawn(cli(*args))  # its own session: Ctrl-C reaches us only; we stop the children


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
            # Every core: each gateway as sibling processes sharing its port and store.
            gateway = _spawn(["serve", "--processes", "auto", "--instance", str(f)])
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
        stop(procs)
