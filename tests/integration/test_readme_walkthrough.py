"""The README's five-minute walkthrough, run as written: every ```sh walkthrough block, in one
shell, against `federation dev` on the instances/ files, each block's output checked against
the ```text walkthrough-output block after it. The README cannot drift from the program.

Only the ports change: each of the README's fixed ports (8001..9003) becomes a free one, in the
copied instance files and in the commands alike."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cluster import free_port

ROOT = Path(__file__).resolve().parents[2]
FIXED_PORTS = ("8001", "8002", "8003", "9001", "9002", "9003")
MARK = "@@walkthrough block {}@@"
READY = "local federation running"

pytestmark = pytest.mark.integration


def walkthrough(readme: str) -> list[tuple[str, list[str]]]:
    """(commands, expected output lines) for each ```sh walkthrough block, in order."""
    fences = re.findall(r"^```([^\n]*)\n(.*?)^```$", readme, re.M | re.S)
    steps: list[tuple[str, list[str]]] = []
    for info, body in fences:
        if info.strip() == "sh walkthrough":
            steps.append((body, []))
        elif info.strip() == "text walkthrough-output":
            assert steps and not steps[-1][1], "an output block follows no walkthrough block"
            steps[-1][1].extend(line for line in body.splitlines() if line.strip())
    return steps


def line_pattern(expected: str) -> re.Pattern[str]:
    """Whitespace runs compare as one space; "…" stands for anything."""
    parts = [re.escape(p) for p in " ".join(expected.split()).split("…")]
    return re.compile(".*".join(parts))


def assert_shows(output: str, expected: list[str], commands: str) -> None:
    """The expected lines appear in the output, in that order (other lines may come between)."""
    lines = iter(" ".join(line.split()) for line in output.splitlines())
    for want in expected:
        pattern = line_pattern(want)
        if not any(pattern.fullmatch(line) for line in lines):
            raise AssertionError(f"{want!r} not shown by:\n{commands}\noutput:\n{output}")


def relocate(text: str, ports: dict[str, str]) -> str:
    return re.sub(r"\b(" + "|".join(FIXED_PORTS) + r")\b", lambda m: ports[m.group(1)], text)


def start_devnet(tmp: Path, ports: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    (tmp / "instances").mkdir()
    for source in sorted((ROOT / "instances").glob("*.toml")):
        (tmp / "instances" / source.name).write_text(relocate(source.read_text(), ports))
    (tmp / ".venv").symlink_to(sys.prefix)  # the venv running the tests, as .venv/bin/...
    log = tmp / "dev.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(tmp / ".venv" / "bin" / "federation"), "dev"],
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 240  # three instances, each a backend and a gateway
    while READY not in log.read_text(errors="replace"):
        assert proc.poll() is None, f"federation dev exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"federation dev not ready:\n{log.read_text()}"
        time.sleep(0.2)
    return proc, log


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = walkthrough((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(steps) >= 6 and all(expected for _, expected in steps)
    ports = {fixed: str(free_port()) for fixed in FIXED_PORTS}
    devnet, log = start_devnet(tmp_path, ports)
    try:
        # One shell for all blocks, as a reader pastes them into one terminal: variables set
        # in one block (ID, URN) are used by the next.
        script = "set -eu\n" + "".join(
            f"echo '{MARK.format(i)}'\n{relocate(commands, ports)}"
            for i, (commands, _) in enumerate(steps)
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDERATION_")}
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{log.read_text()}"
        outputs = re.split(r"^@@walkthrough block \d+@@\n", done.stdout, flags=re.M)[1:]
        assert len(outputs) == len(steps)
        for (commands, expected), output in zip(steps, outputs, strict=True):
            assert_shows(output, [relocate(line, ports) for line in expected], commands)
    finally:
        if devnet.poll() is None:
            os.killpg(devnet.pid, signal.SIGTERM)
            devnet.wait(timeout=30)
