"""`federation dev` (what scripts/run starts): every instance comes up, and a stop stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.cluster import make_node

pytestmark = pytest.mark.integration


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_dev_runs_every_instance_and_stops_them_all(tmp_path: Path, stop_signal: int) -> None:
    nodes = [make_node(tmp_path, "one"), make_node(tmp_path, "two", mode="approval")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "federation.cli", "dev", *(str(n.config) for n in nodes)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    urls = [f"{n.url}/healthz" for n in nodes] + [f"{n.backend_url}/healthz" for n in nodes]
    try:
        assert proc.stdout is not None
        seen = ""
        while "local federation running" not in seen:  # printed once every child answers
            line = proc.stdout.readline()
            assert line, f"exited before coming up:\n{seen}"
            seen += line
        assert all(answers(u) for u in urls)
        os.kill(proc.pid, stop_signal)
        proc.wait(timeout=30)
        output = seen + proc.stdout.read()  # through the same buffer readline() filled
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "local federation running" in output, output
    for node in nodes:
        assert node.url in output and "mode approval" in output, output
    assert not any(answers(u) for u in urls), "a child outlived the stop"
    # Six processes share one stream: each log line starts with the instance that wrote it.
    log_lines = [line for line in output.splitlines() if re.search(r" (INFO|WARNING|ERROR) ", line)]
    assert log_lines, output
    assert all(line.startswith(("one/", "two/")) for line in log_lines), output
    for node in nodes:
        for role in ("gateway", "backend"):
            assert any(line.startswith(f"{node.name}/{role} ") for line in log_lines), output
