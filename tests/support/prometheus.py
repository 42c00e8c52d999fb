"""A real Prometheus (Debian's `prometheus`, installed by scripts/setup-prometheus) for a test:
started on 127.0.0.1 with a scrape config the test writes, queried over its HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cluster import free_port

SCRAPE_INTERVAL = "1s"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: run scripts/setup-prometheus")
    return path


def scrape_config(targets: Sequence[str], token: str) -> str:
    """One job scraping `targets` (host:port) every second with the bearer token."""
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": "gateways",
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "authorization": {"type": "Bearer", "credentials": token},
                "static_configs": [{"targets": list(targets)}],
            }
        ],
    }
    return json.dumps(config, indent=2)  # JSON is YAML


@dataclass
class Prometheus:
    url: str

    def query(self, promql: str) -> dict[str, float]:
        """An instant query: {instance label: value}."""
        qs = urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{qs}", timeout=10) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
        assert answer["status"] == "success", answer
        return {
            str(item["metric"].get("instance", "")): float(item["value"][1])
            for item in answer["data"]["result"]
        }

    def targets_up(self) -> set[str]:
        return {i for i, v in self.query("up").items() if v == 1}

    async def wait_for(
        self, promql: str, expected: dict[str, float], timeout: float = 60.0
    ) -> dict[str, float]:
        """Poll `promql` until it answers exactly `expected` (a positive barrier); the last
        answer otherwise, for the test's assertion to show."""
        deadline = time.monotonic() + timeout
        got = await asyncio.to_thread(self.query, promql)
        while got != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            got = await asyncio.to_thread(self.query, promql)
        return got


@contextlib.contextmanager
def prometheus(root: Path, targets: Sequence[str], token: str) -> Iterator[Prometheus]:
    """Run Prometheus scraping `targets` until the block ends."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "prometheus.yml"
    config.write_text(scrape_config(targets, token), encoding="utf-8")
    port = free_port()
    log = (root / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Prometheus(f"http://127.0.0.1:{port}")
    try:
        _wait_ready(server, proc, root / "prometheus.log")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(server: Prometheus, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.2)
    raise AssertionError("prometheus did not become ready within 30 s")
