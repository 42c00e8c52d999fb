"""The per-feature builders that the composition root (instance.py) calls: each builds one
feature's services, once, from the instance's base and what other features already built."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from federation.backend.client import BackendClient
from federation.backend.notifications import BackendNotifications
from federation.config import Settings
from federation.delivery.hosthealth import HostHealthTracker
from federation.delivery.outbound import Outbound
from federation.delivery.publisher import Publisher
from federation.delivery.tally import DeliveryTally
from federation.discovery import ActorUrls
from federation.domains import DomainPolicy
from federation.follows.machine import FollowMachine
from federation.follows.service import FollowService
from federation.http.hostrecords import HostRecords
from federation.http.transport import Transport, make_session
from federation.inbound.handlers import InboundProcessor
from federation.inbound.pipeline import InboxPipeline
from federation.keys import InstanceKeys
from federation.observability.httpclient import backend_trace_config, peer_trace_config
from federation.observability.setup import Telemetry
from federation.ports import Store
from federation.proofs import ObjectSigner
from federation.resolve.cache import RemoteCache
from federation.resolve.keyservice import KeyService
from federation.resolve.ldsigcheck import LdSignatureChecker
from federation.resolve.mirrors import MirrorService, OnlyHeld
from federation.resolve.proofcheck import ProofChecker
from federation.resolve.resolver import Resolver
from federation.signatures import SigningKey


@dataclass(frozen=True)
class Base:
    """What every feature's builder takes: the instance's settings, store, clock and telemetry,
    its one domain-policy snapshot, and the runner's wake-up (created first, handed to whoever
    queues work and to the runner, which waits on it)."""

    settings: Settings
    store: Store
    clock: Callable[[], float]
    telemetry: Telemetry
    rng: random.Random
    policy: DomainPolicy
    work_queued: asyncio.Event


@dataclass(frozen=True)
class Peers:
    session: aiohttp.ClientSession
    transport: Transport
    key_service: KeyService
    records: HostRecords  # the one cache of host records, the transport's and host health's


@dataclass(frozen=True)
class Local:
    session: aiohttp.ClientSession
    client: BackendClient
    notifications: BackendNotifications


@dataclass(frozen=True)
class Sending:
    signer: ObjectSigner
    publisher: Publisher
    health: HostHealthTracker
    tally: DeliveryTally


@dataclass(frozen=True)
class Resolving:
    cache: RemoteCache
    resolver: Resolver
    mirrors: MirrorService
    inbox: InboxPipeline


def peers(base: Base, keys: InstanceKeys) -> Peers:
    """The one signed client of other instances, and their keys."""
    settings, telemetry = base.settings, base.telemetry
    session = make_session(settings, [peer_trace_config(telemetry)])
    # RFC 9421 falls back on the RSA key too (rsa-v1_5-sha256): the only algorithm Mastodon
    # accepts; the Ed25519 key is published (FEP-521a) for peers that prefer it.
    signing_key = SigningKey(ActorUrls(settings.base_url).rsa_key_id, keys.rsa)
    records = HostRecords(base.store, base.clock)
    transport = Transport(
        session=session,
        settings=settings,
        key=signing_key,
        hosts=base.store,
        clock=base.clock,
        records=records,
    )
    key_service = KeyService(
        cache=base.store,
        transport=transport,
        clock=base.clock,
        refetch_interval=settings.cache.key_refetch_interval,
        telemetry=telemetry,
    )
    return Peers(session, transport, key_service, records)


def local(base: Base) -> Local:
    """The local backend: its client, and what the gateway tells it."""
    # The backend is a trusted local service: a plain session, no SSRF guard, its own timeouts.
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=32),
        trace_configs=[backend_trace_config(base.telemetry)],
    )
    settings = base.settings
    client = BackendClient(
        session=session, base_url=settings.backend_url, token=settings.backend_token
    )
    notifications = BackendNotifications(backend=client, queue=base.store, clock=base.clock)
    return Local(session, client, notifications)


def sending(base: Base, keys: InstanceKeys, records: HostRecords) -> Sending:
    """Our activities: signed, stored once, queued to each inbox; the hosts' health."""
    store, clock = base.store, base.clock
    signer = ObjectSigner(keys.ed25519, ActorUrls(base.settings.base_url).ed25519_key_id)
    publisher = Publisher(
        activities=store,
        queue=store,
        follows=store,
        clock=clock,
        wake=base.work_queued.set,
        signer=signer,
        telemetry=base.telemetry,
    )
    health = HostHealthTracker(
        hosts=store, settings=base.settings.delivery, clock=clock, records=records
    )
    return Sending(signer, publisher, health, DeliveryTally(store, clock))


def follows(base: Base, publisher: Publisher) -> FollowService:
    settings, store, clock = base.settings, base.store, base.clock
    machine = FollowMachine(
        settings=settings, follows=store, queue=store, publisher=publisher, clock=clock
    )
    return FollowService(
        settings=settings, follows=store, policy=base.policy, machine=machine, clock=clock
    )


def resolving(base: Base, peers: Peers, backend: BackendClient) -> Resolving:
    """Remote blocks and the checks of what peers send: one proof checker for each key source."""
    settings, store, clock = base.settings, base.store, base.clock
    cache = RemoteCache(store=store, settings=settings, clock=clock)
    proofs = ProofChecker(peers.key_service)
    mirrors = MirrorService(
        cache=store,
        policy=base.policy,
        follows=store,
        proofs=ProofChecker(OnlyHeld(peers.key_service)),
        transport=peers.transport,
        clock=clock,
        peer_scheme=settings.peer_scheme,
    )
    resolver = Resolver(
        cache=cache,
        policy=base.policy,
        transport=peers.transport,
        backend=backend,
        settings=settings,
        clock=clock,
        telemetry=base.telemetry,
        mirrors=mirrors,
        proofs=proofs,
    )
    inbox = InboxPipeline(
        settings=settings,
        queue=store,
        policy=base.policy,
        keys=peers.key_service,
        proofs=proofs,
        ld_signatures=LdSignatureChecker(peers.key_service),
        clock=clock,
        wake=base.work_queued.set,
        telemetry=base.telemetry,
    )
    return Resolving(cache, resolver, mirrors, inbox)


def outbound(base: Base, backend: BackendClient, sending: Sending) -> Outbound:
    """Block events to activities, to followers (delivery/outbound.py)."""
    return Outbound(
        settings=base.settings,
        backend=backend,
        queue=base.store,
        publications=base.store,
        publisher=sending.publisher,
        clock=base.clock,
        signer=sending.signer,
    )


def inbound(
    base: Base, follows: FollowService, cache: RemoteCache, transport: Transport, local: Local
) -> InboundProcessor:
    """What a recorded inbound activity does (inbound/handlers.py)."""
    return InboundProcessor(
        settings=base.settings,
        follows=follows,
        follow_store=base.store,
        cache=cache,
        transport=transport,
        notifications=local.notifications,
        limited=base.policy.is_limited,
    )
