"""The `federation` command line run as a user runs it, in a subprocess, configured by its
instance file alone: the test environment's FEDERATION_* variables are left out."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.cluster import Node


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FEDERATION_")}


def federation(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """`federation <args>`, which must exit with `expect`."""
    proc = subprocess.run(
        [sys.executable, "-m", "federation.cli", *args],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=120,
    )
    assert proc.returncode == expect, f"{args}: rc {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc


def admin(node: Node, *args: str, expect: int = 0) -> Any:
    """`federation admin <args>` against `node` (URL and token from its instance file): the
    parsed output of a successful `--json` command, else the finished process."""
    proc = federation("admin", *args, "--instance", str(node.config), expect=expect)
    if "--json" in args and expect == 0 and proc.stdout.strip():
        return json.loads(proc.stdout)
    return proc


async def lookup(url: str, instance: Path) -> tuple[int | None, str, str]:
    """`federation lookup <url> --json`, signed with `instance`'s keys, run without blocking
    the test's event loop (its own servers may be what answers): exit code, stdout, stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "federation.cli", "lookup", url, "--json", "--instance", str(instance)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_environment(),
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()
