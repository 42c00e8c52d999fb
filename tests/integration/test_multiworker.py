"""Several gateway processes of one instance on one MongoDB store: a web process and two
workers (real `federation serve --role ...` processes, with a real reference backend), one
worker killed with SIGKILL mid-fan-out. Every delivery is still made, exactly once in effect.

The peers are small aiohttp receivers on 127.0.0.1 that accept every signed POST after a
short delay (so the fan-out takes long enough to be interrupted) and record activity ids by
inbox; like real peers they would dedupe by activity id, so "at least once" is the promise.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from aiohttp import web

from federation.jobs.kinds import DeliverPayload, JobKind, payload_of
from federation.records import Job, JobState
from federation.storage.mongodb import MongoStore
from tests.support.cluster import Node, http_json, make_node, stop, until
from tests.support.mongo import MongoServer, fresh_store
from tests.support.records import accepted_follow
from tests.support.stored import jobs_of_kind

pytestmark = [pytest.mark.integration, pytest.mark.fault]

RECEIVER_HOSTS = 3
INBOXES_PER_HOST = 8
CREATED_BLOCKS = 4
RESPONSE_DELAY = 0.25  # seconds a receiver takes per POST
LEASE_SECONDS = 4.0


class Receivers:
    """Peers: one aiohttp server per host, one inbox per actor, recording activity ids."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = defaultdict(list)  # inbox URL -> activity ids
        self.inboxes: list[str] = []
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        for _ in range(RECEIVER_HOSTS):
            app = web.Application()
            app.router.add_post("/actors/{n}/inbox", self._inbox)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self._runners.append(runner)
            port = runner.addresses[0][1]
            self.inboxes += [
                f"http://127.0.0.1:{port}/actors/{n}/inbox" for n in range(INBOXES_PER_HOST)
            ]

    async def _inbox(self, request: web.Request) -> web.Response:
        activity = json.loads(await request.read())
        await asyncio.sleep(RESPONSE_DELAY)
        self.seen[str(request.url.with_query(None))].append(activity["id"])
        return web.Response(status=202)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.seen.values())

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()


async def _leases_of(store: MongoStore, pid: int) -> list[Job]:
    """The deliveries the process holds (its block-event jobs are checked apart: all done)."""
    queued = await store.list_jobs(JobState.QUEUED, limit=10_000)
    return [
        j for j in queued if j.kind == "deliver" and j.lease_owner and f":{pid}:" in j.lease_owner
    ]


async def test_two_workers_one_killed_every_delivery_done_once(
    tmp_path: Path, mongo_server: MongoServer
) -> None:
    receivers = Receivers()
    await receivers.start()
    node = make_node(
        tmp_path, "alpha", delivery={"lease_seconds": LEASE_SECONDS, "per_host_concurrency": 4}
    )
    url = mongo_server.database_url()
    node.use_store(url)
    procs: list[subprocess.Popen[bytes]] = []
    async with fresh_store(url) as store:
        try:
            for inbox in receivers.inboxes:
                await store.put_follow(accepted_follow(inbox.removesuffix("/inbox")))
            await asyncio.to_thread(node.start_backend)
            await asyncio.to_thread(node.start_gateway, "web")
            victim = await asyncio.to_thread(node.start_worker, "worker-a")
            survivor = await asyncio.to_thread(node.start_worker, "worker-b")
            procs += [victim, survivor]

            activities = await _fan_out(node)
            expected = activities * len(receivers.inboxes)
            held = await _kill_mid_fan_out(store, receivers, victim, expected)

            async def all_done() -> bool:
                jobs = await jobs_of_kind(store, JobKind.DELIVER)
                return len(jobs) == expected and all(j.state is JobState.DONE for j in jobs)

            await until(all_done, f"{expected} deliver jobs DONE", timeout=60)
            await _check_exactly_once(store, receivers, held, expected)
        finally:
            for proc in procs:
                stop(proc, signal.SIGTERM)
            node.stop()
            await receivers.stop()


async def _fan_out(node: Node) -> int:
    """Blocks created in the backend (its reporter posts each event to the web process),
    plus one event posted by hand; returns how many activities that makes."""
    blocks = [
        await asyncio.to_thread(node.create_block, title=f"block {n}")
        for n in range(CREATED_BLOCKS)
    ]
    event = {
        "event_id": "manual-1",
        "type": "updated",
        "block_id": blocks[0]["id"],
        "block": blocks[0],
    }
    answer = await asyncio.to_thread(
        http_json, "POST", f"{node.url}/backend/v1/events", event, token=node.backend_token
    )
    assert answer["status"] == "accepted"
    return CREATED_BLOCKS + 1


async def _kill_mid_fan_out(
    store: MongoStore, receivers: Receivers, victim: subprocess.Popen[bytes], expected: int
) -> list[Job]:
    """SIGKILL the victim once deliveries are flowing and it holds leases; returns them."""
    held: list[Job] = []

    async def victim_busy() -> bool:
        nonlocal held
        held = await _leases_of(store, victim.pid)
        return receivers.total >= expected // 6 and bool(held)

    await until(victim_busy, "the victim worker holding leases mid-fan-out", timeout=60)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert receivers.total < expected, "the fan-out finished before the kill"
    return held


async def _check_exactly_once(
    store: MongoStore, receivers: Receivers, held: list[Job], expected: int
) -> None:
    jobs = await jobs_of_kind(store, JobKind.DELIVER)
    keys = [j.dedupe_key for j in jobs]
    assert len(keys) == len(set(keys)) == expected  # one job per (activity, inbox)
    assert all(j.state is JobState.DONE and j.lease_owner is None for j in jobs)
    for job in jobs:
        delivery = payload_of(job, DeliverPayload)
        assert delivery.activity_id in receivers.seen[delivery.inbox], delivery
    # The dead worker's leases were taken over and finished by the survivor.
    assert {j.id for j in held} <= {j.id for j in jobs}
    assert {state for state, _ in await store.counts()} == {"done"}  # events too
