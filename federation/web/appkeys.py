"""Typed keys for everything stored on the aiohttp application, all in one style: the type is
in the annotation (imported for type checking only), the name is the key's only argument."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from federation.backend.client import BackendClient
    from federation.config import Settings
    from federation.delivery.events import BlockEvents
    from federation.inbound.pipeline import InboxPipeline
    from federation.instance import Instance
    from federation.keys import InstanceKeys
    from federation.observability.setup import Telemetry
    from federation.ports import Store
    from federation.proofs import ObjectSigner
    from federation.resolve.mirrors import MirrorService
    from federation.resolve.resolver import Resolver
    from federation.web.limits import PeerBuckets
    from federation.web.rendered import RenderedBlocks

SignatureVerifier = Callable[[web.Request], Awaitable[object | None]]

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("clock")
KEYS: web.AppKey[InstanceKeys] = web.AppKey("keys")
STORE: web.AppKey[Store] = web.AppKey("store")
INSTANCE: web.AppKey[Instance] = web.AppKey("instance")
TELEMETRY: web.AppKey[Telemetry] = web.AppKey("telemetry")
RESOLVER: web.AppKey[Resolver] = web.AppKey("resolver")
BACKEND: web.AppKey[BackendClient] = web.AppKey("backend")
SIGNATURE_VERIFIER: web.AppKey[SignatureVerifier] = web.AppKey("signature_verifier")
PROOF_SIGNER: web.AppKey[ObjectSigner] = web.AppKey("proof_signer")
MIRRORS: web.AppKey[MirrorService] = web.AppKey("mirrors")
MIRROR_LIMIT: web.AppKey[PeerBuckets] = web.AppKey("mirror_limit")
RENDERED_BLOCKS: web.AppKey[RenderedBlocks] = web.AppKey("rendered_blocks")
BLOCK_EVENTS: web.AppKey[BlockEvents] = web.AppKey("block_events")
INBOX: web.AppKey[InboxPipeline] = web.AppKey("inbox")
