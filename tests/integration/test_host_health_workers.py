"""Host health written by two worker processes at once on one MongoDB store: field-level
updates ($inc, $set) add up, where a read-modify-write of the whole record lost counts and
could wipe the signature scheme another worker had learned."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.support.mongo import MongoServer, fresh_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HOST = "peer.example"
FAILURES_PER_WORKER = 150


async def _worker(url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.host_failures",
        url,
        HOST,
        str(FAILURES_PER_WORKER),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await process.stdout.readline() == b"ready\n"
    return process


async def _finish(process: asyncio.subprocess.Process) -> list[int]:
    out, _ = await process.communicate()
    assert process.returncode == 0
    return list(json.loads(out))


async def test_two_worker_processes_recording_failures_add_up(mongo_server: MongoServer) -> None:
    url = mongo_server.database_url()
    async with fresh_store(url) as store:
        await store.set_signature_scheme(HOST, "rfc9421")
        workers = [await _worker(url), await _worker(url)]
        for process in workers:  # both are connected and waiting: start them together
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        seen = await asyncio.gather(*(_finish(p) for p in workers))
        stored = await store.get_host(HOST)
        assert stored is not None
        assert stored.consecutive_failures == 2 * FAILURES_PER_WORKER
        assert stored.signature_scheme == "rfc9421"  # no worker wrote over what was learned
        # Every count the store handed out was handed out once: no two updates saw one value.
        assert sorted(seen[0] + seen[1]) == list(range(1, 2 * FAILURES_PER_WORKER + 1))
