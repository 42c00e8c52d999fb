"""Delivery end to end: real Transport, real SqliteStore, real receiving servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.backend.contract import InboundNotification
from federation.config import DeliverySettings, Settings
from federation.delivery.handler import DeliverHandler, enqueue_fanout, make_backoff
from federation.delivery.hosthealth import HostHealthTracker
from federation.delivery.publisher import Publisher
from federation.domains import DomainPolicy
from federation.follows.machine import FollowMachine
from federation.follows.service import FollowService
from federation.http.session import in_flight_budget
from federation.http.transport import Transport, make_session
from federation.jobs.kinds import JobKind, payload_of
from federation.jobs.outcomes import Dead, Done, FailureReason, JobOutcome
from federation.jobs.runner import JobRunner
from federation.records import Direction, FollowState, Job, JobState
from federation.signatures import SigningKey
from federation.storage.sqlite import SqliteStore
from tests.support.records import accepted_follow
from tests.support.stored import make_unavailable

pytestmark = pytest.mark.integration

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
ACTIVITY = "http://127.0.0.1:1/activities/1"


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey("http://127.0.0.1:1/actor#main-key", key)


@dataclass(eq=False)  # hashed by identity
class Receiver:
    """An inbox server: counts activity ids per path; answers from a per-path script."""

    server: TestServer
    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    script: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses, last repeats
    delay: float = 0.0
    hold: asyncio.Event | None = None  # when set, every answer waits until the event is set

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def count(self, path: str, activity: str = ACTIVITY) -> int:
        return self.received[(path, activity)]


async def start_receiver(aiohttp_server: ServerFactory) -> Receiver:
    app = web.Application()
    receiver: Receiver

    async def inbox(request: web.Request) -> web.Response:
        assert "Signature" in request.headers or "Signature-Input" in request.headers
        body = json.loads(await request.read())
        receiver.received[(request.path, body["id"])] += 1
        if receiver.delay:
            await asyncio.sleep(receiver.delay)
        if receiver.hold is not None:
            await receiver.hold.wait()
        statuses = receiver.script.get(request.path, [202])
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return web.Response(status=status)

    app.router.add_post("/{path:.*}", inbox)
    receiver = Receiver(await aiohttp_server(app))
    return receiver


@dataclass
class Gateway:
    store: SqliteStore
    runner: JobRunner
    health: HostHealthTracker
    reported: list[dict[str, Any]]  # follow.changed notifications handed to "the backend"
    given_up: list[FailureReason]  # why each delivery the handler ended was ended

    async def publish(self, activity_id: str = ACTIVITY) -> int:
        body = json.dumps({"id": activity_id, "type": "Create"}).encode()
        await self.store.put_activity(activity_id, body, time.time())
        inserted = await enqueue_fanout(self.store, self.store, activity_id, time.time())
        self.runner.wake()
        return inserted

    async def settled(self, timeout: float = 10.0) -> None:
        """Until no job is left queued."""
        async with asyncio.timeout(timeout):
            while any(state == "queued" for state, _ in await self.store.counts()):
                await asyncio.sleep(0.01)


@pytest.fixture
async def gateway(tmp_path: Path, signing_key: SigningKey) -> AsyncIterator[Gateway]:
    settings = Settings(
        domain="127.0.0.1:1",
        scheme="http",
        dev_allow_http=True,
        allow_private_addresses=["127.0.0.1"],
        # Fast retries, so a retry happens within the test.
        delivery=DeliverySettings(backoff_base=0.001, backoff_min=0.0, breaker_threshold=50),
    )
    store = SqliteStore(tmp_path / "gw.sqlite3")
    await store.open()
    session = make_session(settings)
    transport = Transport(session=session, settings=settings, key=signing_key, hosts=store)
    health = HostHealthTracker(hosts=store, settings=settings.delivery, clock=time.time)
    rng = random.Random(0)
    publisher = Publisher(
        activities=store, queue=store, follows=store, clock=time.time, wake=lambda: None
    )
    machine = FollowMachine(
        settings=settings, follows=store, queue=store, publisher=publisher, clock=time.time
    )
    follows = FollowService(
        settings=settings,
        follows=store,
        policy=DomainPolicy(store, settings),
        machine=machine,
        clock=time.time,
    )
    handler = DeliverHandler(
        transport=transport,
        inbox_gone=follows.inbox_gone,
        activities=store,
        health=health,
        clock=time.time,
        settings=settings,
        rng=rng,
    )
    reported: list[dict[str, Any]] = []
    given_up: list[FailureReason] = []

    async def deliver(job: Job) -> JobOutcome:
        outcome = await handler(job)
        if isinstance(outcome, Dead):
            given_up.append(outcome.reason)
        return outcome

    async def backend(job: Job) -> JobOutcome:  # where the backend client would send it
        follow = payload_of(job, InboundNotification).follow
        assert follow is not None
        reported.append(follow.model_dump(mode="json"))
        return Done()

    runner = JobRunner(
        store,
        {JobKind.DELIVER: deliver, JobKind.BACKEND: backend},
        owner="worker-1",
        clock=time.time,
        backoff=make_backoff(settings.delivery, rng),
        max_attempts=settings.delivery.max_attempts,
        lease_seconds=settings.delivery.lease_seconds,
        concurrency=settings.delivery.workers or in_flight_budget(),
        per_host_concurrency=settings.delivery.per_host_concurrency,
        idle_poll=0.05,
        host_health=health,
    )
    await runner.start()
    yield Gateway(store, runner, health, reported, given_up)
    await runner.stop()
    await session.close()
    await store.close()


async def follow(
    store: SqliteStore, actor: str, inbox: str, shared_inbox: str | None = None
) -> None:
    await store.put_follow(accepted_follow(actor, inbox=inbox, shared_inbox=shared_inbox))


async def test_fanout_reaches_each_inbox_exactly_once(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    receivers = [await start_receiver(aiohttp_server) for _ in range(5)]
    expected: set[tuple[Receiver, str]] = set()
    for h, rec in enumerate(receivers):
        for u in range(4):
            shared = rec.url("/shared") if h == 0 and u < 2 else None
            actor = rec.url(f"/users/u{u}")
            await follow(gateway.store, actor, f"{actor}/inbox", shared)
            expected.add((rec, "/shared" if shared else f"/users/u{u}/inbox"))
    assert await gateway.publish() == 19  # 20 followers, two behind one shared inbox
    await gateway.settled()
    for rec, path in expected:
        assert rec.count(path) == 1, (rec.host, path)
    assert sum(sum(r.received.values()) for r in receivers) == 19
    assert await gateway.store.counts() == {("done", r.host): 4 for r in receivers[1:]} | {
        ("done", receivers[0].host): 3
    }


async def test_enqueue_fanout_twice_creates_no_duplicates(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    rec = await start_receiver(aiohttp_server)
    for u in range(3):
        await follow(gateway.store, rec.url(f"/u{u}"), rec.url(f"/u{u}/inbox"))
    assert await gateway.publish() == 3
    assert await gateway.publish() == 0
    await gateway.settled()
    assert await gateway.publish() == 0  # done jobs keep their dedupe keys
    await gateway.settled()
    assert sum(rec.received.values()) == 3


async def test_server_error_then_accepted_is_delivered_after_a_retry(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    rec = await start_receiver(aiohttp_server)
    rec.script["/inbox"] = [500, 202]
    await follow(gateway.store, rec.url("/actor"), rec.url("/inbox"))
    await gateway.publish()
    await gateway.settled()
    [job] = await gateway.store.list_jobs(JobState.DONE)
    assert job.attempts == 2
    assert rec.count("/inbox") == 2
    health = await gateway.store.get_host(rec.host)
    assert health is not None and health.consecutive_failures == 0
    assert health.last_success_at > 0


async def test_gone_inbox_kills_the_job_and_ends_its_followers(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    gone = await start_receiver(aiohttp_server)
    alive = await start_receiver(aiohttp_server)
    gone.script["/shared"] = [410]
    await follow(gateway.store, gone.url("/a"), gone.url("/a/inbox"), gone.url("/shared"))
    await follow(gateway.store, gone.url("/b"), gone.url("/b/inbox"), gone.url("/shared"))
    await follow(gateway.store, alive.url("/c"), alive.url("/c/inbox"))
    await gateway.publish()
    await gateway.settled()
    [dead] = await gateway.store.list_jobs(JobState.DEAD)
    assert dead.attempts == 1 and dead.last_error is not None and "410" in dead.last_error
    assert gateway.given_up == [FailureReason.GONE]
    assert gone.count("/shared") == 1
    states = {f.actor: f.state for f in await gateway.store.list_follows(Direction.FOLLOWER)}
    assert states == {
        gone.url("/a"): FollowState.UNDONE,
        gone.url("/b"): FollowState.UNDONE,
        alive.url("/c"): FollowState.ACCEPTED,
    }
    # The state machine reported each ending to the backend.
    ended = {(r["actor"], r["direction"], r["state"]) for r in gateway.reported}
    assert ended == {(gone.url(p), "follower", "undone") for p in ("/a", "/b")}
    # A 410 is no success: nothing was recorded as one.
    health = await gateway.store.get_host(gone.host)
    assert health is None or health.last_success_at == 0


async def test_not_found_is_a_failure_to_retry_never_a_success(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    rec = await start_receiver(aiohttp_server)
    rec.script["/inbox"] = [404, 404, 202]
    await follow(gateway.store, rec.url("/actor"), rec.url("/inbox"))
    await gateway.publish()
    await gateway.settled()
    [job] = await gateway.store.list_jobs(JobState.DONE)
    assert job.attempts == 3
    assert rec.count("/inbox") == 3
    states = {f.actor: f.state for f in await gateway.store.list_follows(Direction.FOLLOWER)}
    assert states == {rec.url("/actor"): FollowState.ACCEPTED}


async def test_not_found_counts_toward_host_failure(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    rec = await start_receiver(aiohttp_server)
    rec.script["/inbox"] = [404]
    await follow(gateway.store, rec.url("/actor"), rec.url("/inbox"))
    await gateway.runner.stop()  # drive by hand: one attempt
    await gateway.publish()
    assert await gateway.runner.run_once() == 1
    [job] = await gateway.store.list_jobs(JobState.QUEUED)
    assert job.attempts == 1 and job.last_error is not None and "404" in job.last_error
    health = await gateway.store.get_host(rec.host)
    assert health is not None
    assert health.consecutive_failures == 1 and health.last_success_at == 0
    assert len(health.failure_days) == 1


async def test_unavailable_domain_is_not_contacted(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    rec = await start_receiver(aiohttp_server)
    await make_unavailable(gateway.store, rec.host, time.time())
    await follow(gateway.store, rec.url("/actor"), rec.url("/inbox"))
    await gateway.publish()
    await gateway.settled()
    [job] = await gateway.store.list_jobs(JobState.DEAD)
    assert job.last_error == "domain unavailable"
    assert gateway.given_up == [FailureReason.UNAVAILABLE]
    assert sum(rec.received.values()) == 0


async def test_a_slow_receiver_does_not_delay_the_others(
    gateway: Gateway, aiohttp_server: ServerFactory
) -> None:
    """The slow host answers nothing until the test lets it: every other host's deliveries must
    complete while all of its requests are still held open."""
    slow = await start_receiver(aiohttp_server)
    slow.hold = asyncio.Event()
    fast = [await start_receiver(aiohttp_server) for _ in range(4)]
    for rec in [slow, *fast]:
        for u in range(4):  # per-host concurrency is 4: the slow host takes one round
            await follow(gateway.store, rec.url(f"/u{u}"), rec.url(f"/u{u}/inbox"))
    await gateway.publish()

    async def fast_done() -> bool:
        counts = await gateway.store.counts()
        return all(counts.get(("done", r.host), 0) == 4 for r in fast)

    async with asyncio.timeout(30):  # a failsafe against a hang, not a measurement
        while not await fast_done():
            await asyncio.sleep(0.01)
        # ...while the slow host, holding its requests, has answered none of them.
        while sum(slow.received.values()) < 4:
            await asyncio.sleep(0.01)
    assert (await gateway.store.counts()).get(("done", slow.host), 0) == 0
    slow.hold.set()
    await gateway.settled()
    assert (await gateway.store.counts())[("done", slow.host)] == 4
