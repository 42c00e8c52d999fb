"""Misbehaving peers for fault tests: a real aiohttp server on 127.0.0.1, in its own thread.

A `Peer` serves valid actor documents (with inbox and public key) for `actors` actors and counts
every activity POSTed to their inboxes. Its behaviour can be changed at any time from the test
thread: answer a status (500, 410...), answer late, reset the connection, or be down altogether
(the listening socket closed, every open connection dropped). It can also sign and send
activities itself (with federation.signatures), so it can play a followed instance.

Nothing in the gateway is mocked: the gateway under test talks to this server over real TCP.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.activities import Block, block_to_object, builders
from federation.records import Direction, Follow
from federation.signatures import SigningKey, sign_cavage
from federation.storage.sqlite import SqliteStore
from tests.support.cluster import free_port
from tests.support.records import accepted_follow

T = TypeVar("T")
ACTIVITY_JSON = "application/activity+json"


@dataclass(frozen=True)
class Behaviour:
    """How the peer answers one inbox POST."""

    status: int = 202
    delay: float = 0.0  # seconds before answering
    reset: bool = False  # abort the TCP connection (RST) instead of answering
    retry_after: str | None = None  # a Retry-After header on the answer


OK = Behaviour()
RESET = Behaviour(reset=True)


def status(code: int) -> Behaviour:
    return Behaviour(status=code)


def slow(seconds: float, code: int = 202) -> Behaviour:
    return Behaviour(status=code, delay=seconds)


class Peer:
    """A remote instance that follows (or is followed by) the gateway under test."""

    def __init__(self, actors: int = 1) -> None:
        self.port = free_port()
        self.actors = actors
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._lock = threading.Lock()
        self._plan: list[Behaviour] = [OK]
        self._hits: Counter[tuple[str, str]] = Counter()  # (inbox path, activity id), any answer
        self._accepted: Counter[tuple[str, str]] = Counter()  # answered 2xx
        self._types: dict[str, str] = {}
        self._pending = 0  # requests being answered right now
        self._peak_pending = 0  # the most answered at once since reset_peak()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._thread.start()
        self.up()

    # --- addresses ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def actor_path(self, i: int = 0) -> str:
        return "/actor" if i == 0 else f"/users/{i}"

    def actor(self, i: int = 0) -> str:
        return self.url + self.actor_path(i)

    def inbox(self, i: int = 0) -> str:
        return self.actor(i) + "/inbox"

    @property
    def key_id(self) -> str:
        return self.actor(0) + "#main-key"

    # --- behaviour ------------------------------------------------------------------------

    def behave(self, *plan: Behaviour) -> None:
        """Answer the next POSTs by `plan`, in order; the last entry repeats."""
        with self._lock:
            self._plan = list(plan) or [OK]

    def _next(self) -> Behaviour:
        with self._lock:
            return self._plan.pop(0) if len(self._plan) > 1 else self._plan[0]

    def up(self) -> None:
        self._call(self._start())

    def down(self) -> None:
        """Stop listening and drop every open connection: the gateway gets ECONNREFUSED."""
        self._call(self._stop())

    def close(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    # --- what arrived ---------------------------------------------------------------------

    def accepted_ids(self, kind: str | None = "Create") -> Counter[tuple[str, str]]:
        """(inbox path, activity id) -> times answered 2xx, for activities of type `kind`."""
        with self._lock:
            return Counter(
                {k: n for k, n in self._accepted.items() if kind in (None, self._types[k[1]])}
            )

    def hits(self, kind: str | None = "Create") -> Counter[tuple[str, str]]:
        """Like accepted_ids, but every request that reached the handler, however answered."""
        with self._lock:
            return Counter(
                {k: n for k, n in self._hits.items() if kind in (None, self._types[k[1]])}
            )

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    @property
    def peak_pending(self) -> int:
        with self._lock:
            return self._peak_pending

    def reset_peak(self) -> None:
        with self._lock:
            self._peak_pending = self._pending

    # --- acting as an instance ------------------------------------------------------------

    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def create_activity(self, n: int, title: str | None = None) -> dict[str, Any]:
        """A Create of this peer's block number `n`, from its instance actor."""
        now = datetime.now(UTC)
        block = Block(
            id=f"b{n}",
            kind="note",
            title=title or f"peer block {n}",
            content="c",
            author="a",
            visibility="public",
            created_at=now,
            updated_at=now,
        )
        obj = block_to_object(block, base_url=self.url, authority=self.host, scheme="http")
        return builders.create(obj, self.actor(0), f"{self.url}/activities/create-{n}")

    def post_signed(self, inbox: str, activity: dict[str, Any]) -> tuple[int, Any]:
        """POST `activity` to `inbox`, signed (draft-cavage) with this peer's key."""
        body = json.dumps(activity).encode()
        headers = {"Content-Type": ACTIVITY_JSON}
        signing_key = SigningKey(self.key_id, self._key)
        headers.update(sign_cavage("POST", inbox, headers, body, signing_key, time.time()))
        req = urllib.request.Request(inbox, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, _json_or_text(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, _json_or_text(exc.read())

    # --- the server -----------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/actor", self._actor_doc)
        app.router.add_get("/users/{i}", self._actor_doc)
        app.router.add_post("/actor/inbox", self._inbox)
        app.router.add_post("/users/{i}/inbox", self._inbox)
        # Closing must not wait for a handler told to answer late; handlers are not cancelled
        # when the client goes away.
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=0.2,
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self._runner = runner

    async def _stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _actor_doc(self, request: web.Request) -> web.Response:
        i = int(request.match_info.get("i", "0"))
        if not 0 <= i < self.actors:
            raise web.HTTPNotFound()
        actor = self.actor(i)
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Application",
            "preferredUsername": f"peer{i}",
            "inbox": actor + "/inbox",
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor(0),
                "publicKeyPem": self.public_key_pem(),
            },
        }
        return web.Response(body=json.dumps(doc).encode(), content_type=ACTIVITY_JSON)

    async def _inbox(self, request: web.Request) -> web.StreamResponse:
        if "Signature" not in request.headers and "Signature-Input" not in request.headers:
            return web.Response(status=401)
        activity = json.loads(await request.read())
        key = (request.path, str(activity["id"]))
        behaviour = self._next()
        with self._lock:
            self._hits[key] += 1
            self._types[key[1]] = str(activity.get("type"))
            self._pending += 1
            self._peak_pending = max(self._peak_pending, self._pending)
        try:
            if behaviour.delay:
                await asyncio.sleep(behaviour.delay)
            if behaviour.reset:
                _reset(request)
                return web.Response(status=500)  # never written: the connection is gone
            if 200 <= behaviour.status < 300:
                with self._lock:
                    self._accepted[key] += 1
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
            return web.Response(status=behaviour.status, headers=headers)
        finally:
            with self._lock:
                self._pending -= 1


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashing peer would."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


# --- seeding a gateway's store before it starts ------------------------------------------


def accepted_follows(peers: Iterable[Peer], direction: Direction) -> list[Follow]:
    """Accepted relations with every actor of every peer (followers), or with each peer's
    instance actor (following)."""
    tag = f"follow-{direction.value}"  # its own Follow id per direction: a peer may be both
    return [
        accepted_follow(peer.actor(i), direction=direction, follow_id=f"{peer.actor(i)}#{tag}")
        for peer in peers
        for i in range(peer.actors if direction is Direction.FOLLOWER else 1)
    ]


def seed_follows(store_path: Path, peers: Iterable[Peer], direction: Direction) -> int:
    """Insert accepted_follows(peers, direction) straight into the gateway's SQLite store."""
    follows = accepted_follows(peers, direction)

    async def put() -> None:
        store = SqliteStore(store_path)
        await store.open()
        try:
            for follow in follows:
                await store.put_follow(follow)
        finally:
            await store.close()

    asyncio.run(put())
    return len(follows)
