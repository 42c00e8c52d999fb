"""Real instances for tests: each a gateway process and a reference-backend process on 127.0.0.1.

Nothing here is faked: the processes are the same `federation serve` / `federation backend serve`
a user runs, with instance files written to a temporary directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from federation.processes import cli, spawn, wait_ready

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    name: str
    root: Path
    port: int
    backend_port: int
    mode: str = "open"
    extra: dict[str, Any] = field(default_factory=dict)
    gateway: subprocess.Popen[bytes] | None = None
    backend: subprocess.Popen[bytes] | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    @property
    def actor(self) -> str:
        return f"{self.url}/actor"

    @property
    def config(self) -> Path:
        return self.root / f"{self.name}.toml"

    @property
    def backend_token(self) -> str:
        return f"backend-token-{self.name}"

    @property
    def admin_token(self) -> str:
        return f"admin-token-{self.name}"

    def write_config(self) -> None:
        lines = [
            f'name = "{self.name}"',
            f'domain = "{self.domain}"',
            'scheme = "http"',
            f"listen_port = {self.port}",
            f'backend_url = "{self.backend_url}"',
            f"backend_listen_port = {self.backend_port}",
            f'backend_token = "{self.backend_token}"',
            f'admin_token = "{self.admin_token}"',
            'backend_store = "backend.sqlite3"',
            'store = "gateway.sqlite3"',
            'key_dir = "keys"',
            f'mode = "{self.mode}"',
            "dev_allow_http = true",
            'allow_private_addresses = ["127.0.0.1"]',
        ]
        top = {k: v for k, v in self.extra.items() if not isinstance(v, dict)}
        lines += [f"{k} = {json.dumps(v)}" for k, v in top.items()]
        for section, values in self.extra.items():
            if isinstance(values, dict):
                lines.append(f"[{section}]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
        self.config.write_text("\n".join(lines) + "\n")

    def use_store(self, url: str) -> None:
        """Point the gateway at another store (e.g. a MongoDB URL) before it starts."""
        text = self.config.read_text().replace('store = "gateway.sqlite3"', f'store = "{url}"')
        self.config.write_text(text)

    def _spawn(self, *args: str, log: str, config: Path | None = None) -> subprocess.Popen[bytes]:
        instance = str(config or self.config)
        return spawn(cli(*args, "--instance", instance), log_file=self.root / log)

    def start_backend(self) -> None:
        self.backend = self._spawn("backend", "serve", log="backend.log")
        wait_ready(f"{self.backend_url}/healthz", self.backend, log=self.root / "backend.log")

    def start(self) -> None:
        """The reference backend, then the gateway."""
        self.start_backend()
        self.start_gateway()

    def start_gateway(self, role: str = "all", processes: int = 1) -> None:
        """`federation serve` of this instance; `processes` > 1 runs `serve --processes N`."""
        args = ("serve", "--role", role, "--processes", str(processes))
        self.gateway = self._spawn(*args, log="gateway.log")
        wait_ready(f"{self.url}/healthz", self.gateway, log=self.root / "gateway.log")

    def start_replica(self, role: str, port: int) -> subprocess.Popen[bytes]:
        """Another gateway process of this instance (same domain, store and keys) listening on
        `port`, as a second process behind a load balancer would; the caller stops it."""
        config = self.root / f"{self.name}-{port}.toml"
        text = self.config.read_text()
        config.write_text(text.replace(f"listen_port = {self.port}\n", f"listen_port = {port}\n"))
        log = f"gateway-{port}.log"
        proc = self._spawn("serve", "--role", role, log=log, config=config)
        wait_ready(f"http://127.0.0.1:{port}/healthz", proc, log=self.root / log)
        return proc

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """One more `serve --role worker` process of this instance, its output in `<name>.log`;
        the caller stops it. A worker binds no port (it shares listen_port with the web
        process), so readiness is its start-up line in the log, not /healthz."""
        log = self.root / f"{name}.log"
        proc = self._spawn("serve", "--role", "worker", log=log.name)
        deadline = time.monotonic() + 30
        while "running (no HTTP listener)" not in (log.read_text() if log.exists() else ""):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start:\n{log.read_text()}")
            time.sleep(0.05)
        return proc

    def kill_gateway(self, sig: int = signal.SIGKILL) -> None:
        stop(self.gateway, sig)
        self.gateway = None

    def kill_backend(self, sig: int = signal.SIGKILL) -> None:
        stop(self.backend, sig)
        self.backend = None

    def stop(self) -> None:
        self.kill_gateway(signal.SIGTERM)
        self.kill_backend(signal.SIGTERM)

    # --- HTTP helpers (blocking; tests call them through asyncio.to_thread or directly) ---

    def backend_call(self, method: str, path: str, body: Any = None) -> Any:
        return http_json(method, self.backend_url + path, body, token=self.backend_token)

    def admin_call(self, method: str, path: str, body: Any = None) -> Any:
        """The admin API (`/admin/api<path>`) with this instance's admin token."""
        return http_json(method, f"{self.url}/admin/api{path}", body, token=self.admin_token)

    def create_block(self, **fields: Any) -> dict[str, Any]:
        block = {
            "kind": "note",
            "title": "t",
            "content": "c",
            "author": "a",
            "visibility": "public",
            **fields,
        }
        result: dict[str, Any] = self.backend_call("POST", "/api/v1/blocks", block)
        return result

    def remote_blocks(self) -> list[dict[str, Any]]:
        data = self.backend_call("GET", "/api/v1/remote-blocks")
        items: list[dict[str, Any]] = data["items"] if isinstance(data, dict) else data
        return items


@contextmanager
def started(*nodes: Node) -> Iterator[None]:
    """Each node's backend and gateway running until the block ends."""
    try:
        for node in nodes:
            node.start()
        yield
    finally:
        for node in nodes:
            node.stop()


def stop(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise HttpFailure(exc.code, exc.read().decode(errors="replace")) from None
    return json.loads(raw) if raw else None


class HttpFailure(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def eventually(check: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll `check()` until it returns a truthy value (real processes take real time)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (HttpFailure, OSError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last value: {last!r}")


async def until(
    check: Callable[[], Awaitable[T | None]],
    what: str = "the condition",
    timeout: float = 30.0,
    interval: float = 0.05,
) -> T:
    """Await `check()` until it returns a truthy value, and return that value (a positive
    barrier); AssertionError naming `what` and the last value when the time runs out."""
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what} (last: {value!r})")
        await asyncio.sleep(interval)
    return value


def make_node(tmp: Path, name: str, mode: str = "open", **extra: Any) -> Node:
    root = tmp / name
    root.mkdir(parents=True, exist_ok=True)
    node = Node(name, root, free_port(), free_port(), mode, extra)
    node.write_config()
    return node
