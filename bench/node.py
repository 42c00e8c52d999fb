"""A gateway under test: instance file in a temporary folder, store filled before start, the
gateway (`federation serve`) pinned to CPU 0 and its reference backend pinned to CPU 1."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import CLIENT_CPU, SERVER_CPU, free_port, spawn, stop
from federation.processes import wait_ready
from federation.storage.sqlite import SqliteStore

Fill = Callable[[SqliteStore], Awaitable[None]]
PROFILE_ENV = "BENCH_PROFILE_DIR"  # set: every gateway a bench starts runs under cProfile
LOG_LEVEL = "WARNING"  # per-request INFO lines would measure the log file, not the gateway
# One bench peer carries a whole bench's load, far past a real peer's per-host limit: benches
# lift the limits (every request still pays the check) unless they set their own (bench/flood).
LIFTED_LIMITS = {
    "inbox_rate": 1e9,
    "inbox_burst": 10**9,
    "fetch_rate": 1e9,
    "fetch_burst": 10**9,
    "peer_concurrency": 10**6,
}


@dataclass
class BenchNode:
    root: Path
    name: str = "bench"
    port: int = field(default_factory=free_port)
    backend_port: int = field(default_factory=free_port)
    extra: dict[str, Any] = field(default_factory=dict)
    gateway: subprocess.Popen[bytes] | None = None
    role: str = "all"
    backend: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    @property
    def config(self) -> Path:
        return self.root / f"{self.name}.toml"

    @property
    def store_path(self) -> Path:
        return self.root / "gateway.sqlite3"

    @property
    def backend_token(self) -> str:
        return f"backend-token-{self.name}"

    def write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        values: dict[str, Any] = {
            "name": self.name,
            "domain": self.domain,
            "scheme": "http",
            "listen_port": self.port,
            "backend_url": f"http://127.0.0.1:{self.backend_port}",
            "backend_listen_port": self.backend_port,
            "backend_token": self.backend_token,
            "admin_token": f"admin-token-{self.name}",
            "backend_store": "backend.sqlite3",
            "store": self.store_path.name,
            "key_dir": "keys",
            "dev_allow_http": True,
            "allow_private_addresses": ["127.0.0.1"],
        }
        extra = {**self.extra, "limits": {**LIFTED_LIMITS, **self.extra.get("limits", {})}}
        top = {k: v for k, v in extra.items() if not isinstance(v, dict)}
        lines = [f"{k} = {json.dumps(v)}" for k, v in {**values, **top}.items()]
        for section, table in extra.items():
            if isinstance(table, dict):
                lines.append(f"[{section}]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
        self.config.write_text("\n".join(lines) + "\n")

    def fill(self, fill: Fill) -> None:
        """Write to the gateway's store directly (before the gateway starts)."""

        async def go() -> None:
            store = SqliteStore(self.store_path)
            await store.open()
            try:
                await fill(store)
            finally:
                await store.close()

        asyncio.run(go())

    def _cli(self, *args: str) -> list[str]:
        return [
            "-m",
            "federation.cli",
            "--log-level",
            LOG_LEVEL,
            *args,
            "--instance",
            str(self.config),
        ]

    def start_backend(self) -> None:
        log = self.root / "backend.log"
        self.backend = spawn(self._cli("backend", "serve"), cpu=CLIENT_CPU, log=log)
        wait_ready(f"http://127.0.0.1:{self.backend_port}/healthz", self.backend, log=log)

    def start_gateway(
        self,
        role: str = "all",
        env: Mapping[str, str] | None = None,
        cpus: Collection[int] = (SERVER_CPU,),
        processes: int = 1,
    ) -> None:
        """Start the gateway, pinned to the server's CPU unless `cpus` names others;
        `processes` > 1 runs `serve --processes N` (its processes inherit the pinning)."""
        self.role = role
        log = self.root / "gateway.log"
        args = self._cli("serve", "--role", role, "--processes", str(processes))
        if profile_dir := os.environ.get(PROFILE_ENV):
            # cProfile writes when the gateway exits; stop() ends it with SIGTERM, which the
            # gateway answers with a clean shutdown, so the profile is complete.
            out = Path(profile_dir) / f"{self.name}-{role}-{self.port}.pstats"
            args = ["-m", "cProfile", "-o", str(out), *args]
        self.gateway = spawn(args, cpu=cpus, log=log, env=env)
        wait_ready(f"{self.url}/healthz", self.gateway, log=log)

    def start_worker(self, cpus: Collection[int] = (SERVER_CPU,)) -> None:
        """One more process running the queue beside the gateway (`serve --role worker`, no
        listener): it claims jobs from the same store."""
        log = self.root / f"worker-{len(self.workers)}.log"
        self.workers.append(spawn(self._cli("serve", "--role", "worker"), cpu=cpus, log=log))

    @property
    def gateway_pid(self) -> int:
        assert self.gateway is not None
        return self.gateway.pid

    def stop(self) -> None:
        for worker in self.workers:
            stop(worker)
        self.workers.clear()
        stop(self.gateway)
        stop(self.backend)
        self.gateway = self.backend = None

    def __enter__(self) -> BenchNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
