"""A real Fedify server (tests/interop/fedify/server.mjs, Node 22 from npm) as a subprocess, and
the handle the interop tests drive it with: its control API under /_test/ (JSON over HTTP)."""

from __future__ import annotations

import asyncio
import functools
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.support.cluster import free_port

FEDIFY_DIR = Path(__file__).resolve().parents[1] / "interop" / "fedify"
NODE = FEDIFY_DIR / "node_modules" / ".bin" / "node"
START_TIMEOUT = 30.0

T = TypeVar("T")


@functools.cache
def _keys_dir() -> tempfile.TemporaryDirectory[str]:
    """Where the Fedify actor's key pairs are kept for this test session (removed at exit):
    every server of the session loads them instead of generating an RSA key again."""
    return tempfile.TemporaryDirectory(prefix="fedify-keys-")


class FedifyServer:
    def __init__(self, url: str, session: aiohttp.ClientSession, log: Path) -> None:
        self.url = url
        self.actor = f"{url}/users/fedi"
        self.host = url.removeprefix("http://")
        self._session = session
        self._log = log

    async def state(self) -> dict[str, Any]:
        async with self._session.get(f"{self.url}/_test/state") as resp:
            assert resp.status == 200, await resp.text()
            result: dict[str, Any] = await resp.json()
            return result

    async def control(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._session.post(f"{self.url}/_test/{action}", json=body) as resp:
            result: dict[str, Any] = await resp.json()
            assert resp.status == 200, f"{action}: {result}\n{self.log_tail()}"
            return result

    async def follow(self, actor: str) -> str:
        return str((await self.control("follow", {"actor": actor}))["follow"])

    async def unfollow(self, actor: str) -> str:
        return str((await self.control("unfollow", {"actor": actor}))["undo"])

    async def send(self, to: str, **fields: Any) -> dict[str, Any]:
        return await self.control("send", {"to": to, **fields})

    async def until(
        self, check: Callable[[dict[str, Any]], T | None], what: str, timeout: float = 30.0
    ) -> T:
        """Poll the server's state until `check` finds what it looks for (a positive barrier)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.state()
            found = check(state)
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                summary = json.dumps(_summary(state), indent=1)[-6000:]
                raise AssertionError(f"Fedify: {what} not seen in {timeout} s\n{summary}")
            await asyncio.sleep(0.1)

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    """What a failure message shows: the traffic without the bodies."""

    def brief(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entry.items() if k not in ("body", "json")}

    return {
        "following": state["following"],
        "followers": state["followers"],
        "received": [brief(r) for r in state["received"]],
        "inbound": [brief(r) for r in state["inbound"]],
        "outbound": [brief(r) for r in state["outbound"] if r["method"] == "POST"],
        "outboxErrors": state["outboxErrors"],
    }


@asynccontextmanager
async def running_fedify(tmp: Path, *flags: str) -> AsyncIterator[FedifyServer]:
    """Start server.mjs on a free port (flags: --challenge, --challenge-nonce, ...)."""
    if not NODE.exists():
        pytest.fail(f"Fedify is not installed in {FEDIFY_DIR}: run scripts/setup-interop")
    port = free_port()
    log = tmp / f"fedify-{port}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(NODE), "server.mjs", "--port", str(port),
            "--keys", str(Path(_keys_dir().name) / "keys.json"), *flags,
            cwd=FEDIFY_DIR, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as session:
            server = FedifyServer(f"http://127.0.0.1:{port}", session, log)
            await _wait_started(server, proc)
            yield server
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _wait_started(server: FedifyServer, proc: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    while True:
        try:
            await server.state()
            return
        except (aiohttp.ClientError, AssertionError):
            if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"Fedify did not start:\n{server.log_tail()}") from None
            await asyncio.sleep(0.1)
