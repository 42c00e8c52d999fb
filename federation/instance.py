"""Wires one instance's services together. Built inside the app's cleanup context."""

from __future__ import annotations

import asyncio
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from federation.backend.client import BackendClient
from federation.backend.notifications import BackendNotifications
from federation.config import Settings
from federation.delivery.handler import make_backoff, make_deliver_handler
from federation.delivery.hosthealth import HostHealthTracker
from federation.delivery.outbound import Outbound
from federation.delivery.publisher import Publisher
from federation.delivery.tally import DeliveryTally
from federation.discovery import ActorUrls
from federation.domains import DomainPolicy
from federation.follows.machine import FollowMachine
from federation.follows.service import FollowService
from federation.http.transport import Transport, make_session
from federation.inbound.handlers import InboundProcessor
from federation.inbound.pipeline import InboxPipeline
from federation.jobs.kinds import JobKind
from federation.jobs.maintenance import Maintenance
from federation.jobs.observed import observed
from federation.jobs.outcomes import Handler
from federation.jobs.runner import JobRunner
from federation.keys import InstanceKeys
from federation.observability.httpclient import backend_trace_config, peer_trace_config
from federation.observability.setup import Telemetry
from federation.ports import Store
from federation.proofs import ObjectSigner
from federation.resolve.cache import RemoteCache
from federation.resolve.keyservice import KeyService
from federation.resolve.mirrors import MirrorService
from federation.resolve.proofcheck import ProofChecker
from federation.resolve.resolver import Resolver
from federation.signatures import SigningKey


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
    """Every service of one instance, each built once, in dependency order."""
    rng = rng or random.Random()
    telemetry = telemetry or Telemetry()
    session = make_session(settings, [peer_trace_config(telemetry)])
    # RFC 9421 falls back on the RSA key too (rsa-v1_5-sha256): the only algorithm Mastodon
    # accepts; the Ed25519 key is published (FEP-521a) for peers that prefer it.
    signing_key = SigningKey(ActorUrls(settings.base_url).rsa_key_id, keys.rsa)
    transport = Transport(
        session=session, settings=settings, key=signing_key, hosts=store, clock=clock
    )
    # The backend is a trusted local service: a plain session, no SSRF guard, its own timeouts.
    backend_session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=32),
        trace_configs=[backend_trace_config(telemetry)],
    )
    backend = BackendClient(
        session=backend_session, base_url=settings.backend_url, token=settings.backend_token
    )
    key_service = KeyService(
        cache=store,
        transport=transport,
        clock=clock,
        refetch_interval=settings.cache.key_refetch_interval,
        telemetry=telemetry,
    )
    policy = DomainPolicy(store, settings)  # one snapshot for every reader in this process
    health = HostHealthTracker(hosts=store, settings=settings.delivery, clock=clock)
    tally = DeliveryTally(store, clock)
    signer = ObjectSigner(keys.ed25519, ActorUrls(settings.base_url).ed25519_key_id)
    work_queued = asyncio.Event()  # the runner's wake-up, set by whoever queues work
    publisher = Publisher(
        activities=store,
        queue=store,
        follows=store,
        clock=clock,
        wake=work_queued.set,
        signer=signer,
        telemetry=telemetry,
    )
    machine = FollowMachine(
        settings=settings, follows=store, queue=store, publisher=publisher, clock=clock
    )
    follows = FollowService(
        settings=settings, follows=store, policy=policy, machine=machine, clock=clock
    )
    outbound = Outbound(
        settings=settings,
        backend=backend,
        queue=store,
        activities=store,
        publisher=publisher,
        clock=clock,
        signer=signer,
    )
    remote_cache = RemoteCache(store=store, settings=settings, clock=clock)
    notifications = BackendNotifications(backend=backend, queue=store, clock=clock)
    inbound = InboundProcessor(
        settings=settings,
        follows=follows,
        follow_store=store,
        cache=remote_cache,
        transport=transport,
        notifications=notifications,
        limited=policy.is_limited,
    )
    deliver = make_deliver_handler(
        transport=transport,
        inbox_gone=follows.inbox_gone,
        activities=store,
        health=health,
        clock=clock,
        settings=settings,
        rng=rng,
        tally=tally,
    )
    handlers: dict[str, Handler] = {
        JobKind.DELIVER: deliver,
        JobKind.INBOX: inbound.handle,
        JobKind.EVENT: outbound.handle_event,
        JobKind.RELEASE: outbound.handle_release,
        JobKind.BACKFILL: outbound.handle_backfill,
        JobKind.BACKEND: notifications.handle,
    }
    mirrors = MirrorService(
        cache=store,
        policy=policy,
        follows=store,
        keys=key_service,
        transport=transport,
        clock=clock,
        peer_scheme=settings.peer_scheme,
    )
    return Instance(
        settings=settings,
        store=store,
        session=session,
        backend_session=backend_session,
        transport=transport,
        backend=backend,
        key_service=key_service,
        inbox=InboxPipeline(
            settings=settings,
            queue=store,
            policy=policy,
            keys=key_service,
            clock=clock,
            wake=work_queued.set,
            telemetry=telemetry,
        ),
        follows=follows,
        publisher=publisher,
        outbound=outbound,
        inbound=inbound,
        resolver=Resolver(
            cache=remote_cache,
            policy=policy,
            transport=transport,
            backend=backend,
            settings=settings,
            clock=clock,
            telemetry=telemetry,
            mirrors=mirrors,
            proofs=ProofChecker(key_service),
        ),
        health=health,
        runner=_runner(
            settings,
            store,
            observed(handlers, telemetry, settings.delivery.max_attempts),
            health,
            work_queued,
            clock,
            rng,
        ),
        maintenance=Maintenance(queue=store, clock=clock),
        signer=signer,
        tally=tally,
        mirrors=mirrors,
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
        concurrency=d.workers,
        per_host_concurrency=d.per_host_concurrency,
        host_health=health,
        paused_hosts=lambda: _paused_host_keys(store),
        wakeup=wakeup,
    )


async def _paused_host_keys(store: Store) -> list[str]:
    return [pause.host for pause in await store.paused_hosts()]
