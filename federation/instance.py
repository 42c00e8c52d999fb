"""Wires one instance's services together. Built inside the app's cleanup context."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from federation.backend.client import BackendClient
from federation.backend.contract import InboundNotification
from federation.config import Settings
from federation.delivery.handler import backoff_delay, make_deliver_handler
from federation.delivery.hosthealth import HostHealthTracker
from federation.delivery.outbound import Outbound
from federation.delivery.publisher import Publisher
from federation.discovery import ActorUrls
from federation.follows.service import FollowService
from federation.http.transport import Transport, make_session
from federation.inbound.handlers import InboundProcessor
from federation.inbound.pipeline import InboxPipeline
from federation.jobs.kinds import BackendPayload, JobKind, encode, payload_of
from federation.jobs.maintenance import Maintenance
from federation.jobs.observed import observed
from federation.jobs.outcomes import Done, Handler, JobOutcome
from federation.jobs.runner import JobRunner
from federation.keys import InstanceKeys
from federation.observability.httpclient import backend_trace_config, peer_trace_config
from federation.observability.setup import Telemetry
from federation.ports import Store
from federation.proofs import ObjectSigner
from federation.records import Job
from federation.resolve.keyservice import KeyService
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

    async def start_workers(self) -> None:
        await self.runner.start()
        self.maintenance.start()

    async def close(self) -> None:
        await self.maintenance.stop()
        await self.runner.stop()
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
    rng = rng or random.Random()
    telemetry = telemetry or Telemetry()
    urls = ActorUrls(settings.base_url)
    session = make_session(settings, [peer_trace_config(telemetry)])
    # The backend is a trusted local service: a plain session, no SSRF guard, its own timeouts.
    backend_session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=32),
        trace_configs=[backend_trace_config(telemetry)],
    )
    transport = Transport(
        session,
        settings,
        SigningKey(urls.rsa_key_id, keys.rsa),
        store,
        clock=clock,
        # RFC 9421 falls back on the RSA key too (rsa-v1_5-sha256): the only algorithm Mastodon
        # accepts; the Ed25519 key is published (FEP-521a) for peers that prefer it.
    )
    backend = BackendClient(backend_session, settings.backend_url, settings.backend_token)
    key_service = KeyService(
        store,
        transport,
        clock,
        refetch_interval=settings.cache.key_refetch_interval,
        telemetry=telemetry,
    )
    health = HostHealthTracker(store, settings.delivery, clock)
    signer = ObjectSigner(keys.ed25519, urls.ed25519_key_id)
    publisher = Publisher(store, store, store, clock, signer=signer, telemetry=telemetry)
    follows = FollowService(settings, store, store, store, publisher, clock)
    outbound = Outbound(settings, backend, store, store, publisher, clock, signer=signer)

    async def notify(notice: BackendPayload) -> None:
        await backend.notify(InboundNotification.model_validate(encode(notice)))

    async def notify_backend(job: Job) -> JobOutcome:
        await notify(payload_of(job, BackendPayload))
        return Done()

    inbound = InboundProcessor(settings, follows, store, store, store, transport, clock, notify)
    resolver = Resolver(store, store, transport, backend, settings, clock, telemetry=telemetry)
    d = settings.delivery

    handlers: dict[str, Handler] = {
        JobKind.DELIVER: make_deliver_handler(transport, store, store, health, clock, settings),
        JobKind.INBOX: inbound.handle,
        JobKind.EVENT: outbound.handle_event,
        JobKind.RELEASE: outbound.handle_release,
        JobKind.BACKFILL: outbound.handle_backfill,
        JobKind.BACKEND: notify_backend,
    }
    runner = JobRunner(
        store,
        observed(handlers, telemetry, d.max_attempts),
        owner=f"{socket.gethostname()}:{os.getpid()}:{rng.getrandbits(32):08x}",
        clock=clock,
        backoff=lambda attempt: backoff_delay(
            attempt, rng, base=d.backoff_base, minimum=d.backoff_min
        ),
        max_attempts=d.max_attempts,
        lease_seconds=d.lease_seconds,
        concurrency=d.workers,
        per_host_concurrency=d.per_host_concurrency,
        host_health=health,
    )
    publisher.wake = runner.wake
    inbox = InboxPipeline(settings, store, store, key_service, clock, telemetry=telemetry)
    return Instance(
        settings,
        store,
        session,
        backend_session,
        transport,
        backend,
        key_service,
        inbox,
        follows,
        publisher,
        outbound,
        inbound,
        resolver,
        health,
        runner,
        Maintenance(store, clock),
        signer,
    )
