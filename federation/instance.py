"""Wires one instance's services together. Built inside the app's cleanup context."""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from federation import assembly
from federation.backend.client import BackendClient
from federation.config import Settings
from federation.delivery.handler import DeliverHandler, make_backoff
from federation.delivery.hosthealth import HostHealthTracker
from federation.delivery.outbound import Outbound
from federation.delivery.publisher import Publisher
from federation.delivery.tally import DeliveryTally
from federation.domains import DomainPolicy
from federation.follows.service import FollowService
from federation.http.session import in_flight_budget
from federation.http.transport import Transport
from federation.inbound.handlers import InboundProcessor
from federation.inbound.pipeline import InboxPipeline
from federation.jobs.kinds import JobKind
from federation.jobs.maintenance import Maintenance
from federation.jobs.observed import observed
from federation.jobs.outcomes import Handler
from federation.jobs.runner import JobRunner
from federation.keys import InstanceKeys
from federation.observability.setup import Telemetry
from federation.ports import Store
from federation.proofs import ObjectSigner
from federation.resolve.keyservice import KeyService
from federation.resolve.mirrors import MirrorService
from federation.resolve.resolver import Resolver


@dataclass
class Instance:
    settings: Settings
    store: Store
    session: aiohttp.ClientSession
    backend_session: aiohttp.ClientSession
    transport: Transport
    backend: BackendClient
    key_service: KeyService
    inbox: InboxPipeline
    follows: FollowService
    publisher: Publisher
    outbound: Outbound
    inbound: InboundProcessor
    resolver: Resolver
    health: HostHealthTracker
    runner: JobRunner
    maintenance: Maintenance
    signer: ObjectSigner
    tally: DeliveryTally
    mirrors: MirrorService

    async def start_workers(self) -> None:
        await self.runner.start()
        self.maintenance.start()
        self.tally.start()

    async def close(self) -> None:
        await self.maintenance.stop()
        await self.runner.stop()
        await self.tally.stop()  # after the runner: its last attempts are counted too
        await self.session.close()
        await self.backend_session.close()


def build_instance(
    settings: Settings,
    store: Store,
    keys: InstanceKeys,
    clock: Callable[[], float],
    *,
    rng: random.Random | None = None,
    telemetry: Telemetry | None = None,
) -> Instance:
    """Every service of one instance, each built once, feature by feature."""
    telemetry = telemetry or Telemetry()
    # One policy snapshot for every reader in this process.
    policy = DomainPolicy(store, settings)
    base = assembly.Base(
        settings, store, clock, telemetry, rng or random.Random(), policy, asyncio.Event()
    )
    peers = assembly.peers(base, keys)
    local = assembly.local(base)
    sending = assembly.sending(base, keys, peers.records)
    follows = assembly.follows(base, sending.publisher)
    resolving = assembly.resolving(base, peers, local.client)
    outbound = assembly.outbound(base, local.client, sending)
    inbound = assembly.inbound(base, follows, resolving.cache, peers.transport, local)
    runner = _working(base, peers, sending, follows, outbound, inbound, local)
    return _instance(base, peers, local, sending, resolving, follows, outbound, inbound, runner)


def _working(
    base: assembly.Base,
    peers: assembly.Peers,
    sending: assembly.Sending,
    follows: FollowService,
    outbound: Outbound,
    inbound: InboundProcessor,
    local: assembly.Local,
) -> JobRunner:
    """The durable runner and the handler of each job kind."""
    deliver = DeliverHandler(
        transport=peers.transport,
        inbox_gone=follows.inbox_gone,
        activities=base.store,
        health=sending.health,
        clock=base.clock,
        settings=base.settings,
        rng=base.rng,
        tally=sending.tally,
    )
    handlers: dict[str, Handler] = {
        JobKind.DELIVER: deliver,
        JobKind.INBOX: inbound.handle,
        JobKind.EVENT: outbound.handle_event,
        JobKind.RELEASE: outbound.handle_release,
        JobKind.BACKFILL: outbound.handle_backfill,
        JobKind.BACKEND: local.notifications.handle,
    }
    settings = base.settings
    return _runner(
        settings,
        base.store,
        observed(handlers, base.telemetry, settings.delivery.max_attempts, base.clock),
        sending.health,
        base.work_queued,
        base.clock,
        base.rng,
    )


def _instance(
    base: assembly.Base,
    peers: assembly.Peers,
    local: assembly.Local,
    sending: assembly.Sending,
    resolving: assembly.Resolving,
    follows: FollowService,
    outbound: Outbound,
    inbound: InboundProcessor,
    runner: JobRunner,
) -> Instance:
    return Instance(
        settings=base.settings,
        store=base.store,
        session=peers.session,
        backend_session=local.session,
        transport=peers.transport,
        backend=local.client,
        key_service=peers.key_service,
        inbox=resolving.inbox,
        follows=follows,
        publisher=sending.publisher,
        outbound=outbound,
        inbound=inbound,
        resolver=resolving.resolver,
        health=sending.health,
        runner=runner,
        maintenance=Maintenance(queue=base.store, clock=base.clock),
        signer=sending.signer,
        tally=sending.tally,
        mirrors=resolving.mirrors,
    )


def _runner(
    settings: Settings,
    store: Store,
    handlers: dict[str, Handler],
    health: HostHealthTracker,
    wakeup: asyncio.Event,
    clock: Callable[[], float],
    rng: random.Random,
) -> JobRunner:
    d = settings.delivery
    return JobRunner(
        store,
        handlers,
        owner=f"{socket.gethostname()}:{os.getpid()}:{rng.getrandbits(32):08x}",
        clock=clock,
        backoff=make_backoff(d, rng),
        max_attempts=d.max_attempts,
        lease_seconds=d.lease_seconds,
        concurrency=d.workers or in_flight_budget(),
        per_host_concurrency=d.per_host_concurrency,
        host_health=health,
        paused_hosts=lambda: _paused_host_keys(store),
        wakeup=wakeup,
        liveness=store,
        takeover_seconds=d.takeover_seconds,
    )


async def _paused_host_keys(store: Store) -> list[str]:
    return [pause.host for pause in await store.paused_hosts()]
