"""The signed client meets a peer's Accept-Signature (RFC 9421 section 5) on the retry, before
any scheme swap, and remembers it per host without its one-time nonce. Real aiohttp servers on
127.0.0.1 play peers that say what they want, as a Fedify 2.1+ inbox does."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from federation.http.transport import DeliveryOutcome
from federation.records import HostHealth
from federation.signatures import SignedRequest, Verified, verify_request
from federation.signatures.model import PublicKeyInfo
from federation.signatures.rfc9421 import parse_signature_input
from tests.support.transport import NOW, MemoryHosts
from tests.unit.test_transport import ACTIVITY

WANTED = ("@method", "@target-uri", "@authority", "content-digest")


class ChallengingPeer:
    """Answers 401 + Accept-Signature (with a fresh one-time nonce when `nonce`) unless the
    request is signed exactly as asked; records what each request was signed with."""

    def __init__(self, public_key: Any, wanted: tuple[str, ...], *, nonce: bool) -> None:
        self.public_key, self.wanted, self.use_nonce = public_key, wanted, nonce
        self.issued: set[str] = set()
        self.seen: list[str] = []

    def ask(self) -> str:
        names = " ".join(f'"{c}"' for c in self.wanted)
        if not self.use_nonce:
            return f"mine=({names});created"
        nonce = secrets.token_hex(8)
        self.issued.add(nonce)
        return f'mine=({names});created;nonce="{nonce}"'

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        label = self._signed_as_asked(request)
        self.seen.append(label)
        if label == "asked" and await self._verifies(request, body):
            return web.Response(status=202 if body else 200, text="{}")
        return web.Response(status=401, headers={"Accept-Signature": self.ask()})

    def _signed_as_asked(self, request: web.Request) -> str:
        if "Signature-Input" not in request.headers:
            return "cavage"
        (sig,) = parse_signature_input(request.headers["Signature-Input"])
        if sig.label != "mine" or sig.components != self.wanted:
            return "rfc9421"
        if self.use_nonce:
            nonce = sig.params.get("nonce")
            if nonce not in self.issued:
                return "stale-nonce"
            self.issued.discard(nonce)
        return "asked"

    async def _verifies(self, request: web.Request, body: bytes) -> bool:
        async def key_of(key_id: str) -> PublicKeyInfo:
            return PublicKeyInfo(key_id, "http://127.0.0.1:8000/actor", self.public_key)

        url = str(request.url)
        signed = SignedRequest(request.method, url, dict(request.headers), body)
        return isinstance(await verify_request(signed, key_of, NOW), Verified)


async def start(serve: Any, peer: ChallengingPeer) -> tuple[str, str]:
    server = await serve({"/inbox": peer.handle, "/object": peer.handle})
    return str(server.make_url("/inbox")), f"127.0.0.1:{server.port}"


async def test_a_delivery_is_signed_as_the_peer_asks_and_the_ask_remembered(
    serve: Any, make_transport: Any, hosts: MemoryHosts, rsa_key: Any
) -> None:
    peer = ChallengingPeer(rsa_key.public_key(), WANTED, nonce=False)
    inbox, host = await start(serve, peer)
    result = await make_transport().deliver(inbox, ACTIVITY)
    assert result.outcome is DeliveryOutcome.DELIVERED
    assert peer.seen == ["cavage", "asked"]
    remembered = hosts.rows[host].signature_scheme
    assert (
        remembered == 'rfc9421 mine=("@method" "@target-uri" "@authority" "content-digest");created'
    )
    # A later delivery, by a new process reading the same store, needs no knock at all.
    peer.seen.clear()
    again = await make_transport().deliver(inbox, ACTIVITY)
    assert (again.outcome, peer.seen) == (DeliveryOutcome.DELIVERED, ["asked"])


async def test_a_one_time_nonce_is_used_once_and_never_remembered(
    serve: Any, make_transport: Any, hosts: MemoryHosts, rsa_key: Any
) -> None:
    peer = ChallengingPeer(rsa_key.public_key(), WANTED, nonce=True)
    inbox, host = await start(serve, peer)
    transport = make_transport()
    for _ in range(2):
        assert (await transport.deliver(inbox, ACTIVITY)).outcome is DeliveryOutcome.DELIVERED
    # The second delivery knocks with the remembered components; the peer's fresh nonce wins.
    assert peer.seen == ["cavage", "asked", "stale-nonce", "asked"]
    assert "nonce" not in str(hosts.rows[host].signature_scheme)


async def test_an_ask_our_key_cannot_meet_falls_back_to_the_scheme_swap(
    serve: Any, make_transport: Any, hosts: MemoryHosts, rsa_key: Any
) -> None:
    peer = ChallengingPeer(rsa_key.public_key(), ("@method", "x-custom"), nonce=False)
    inbox, host = await start(serve, peer)
    result = await make_transport().deliver(inbox, ACTIVITY)
    assert (result.outcome, result.status) == (DeliveryOutcome.RETRY, 401)
    assert peer.seen == ["cavage", "rfc9421"]
    assert hosts.rows.get(host) is None  # nothing worked: nothing learned


async def test_a_remembered_ask_that_fails_knocks_back_to_cavage(
    serve: Any, make_transport: Any, hosts: MemoryHosts
) -> None:
    async def cavage_only(request: web.Request) -> web.Response:
        return web.Response(status=401 if "Signature-Input" in request.headers else 202)

    server = await serve({"/inbox": cavage_only})
    host = f"127.0.0.1:{server.port}"
    hosts.rows[host] = HostHealth(host=host, signature_scheme='rfc9421 mine=("@method");created')
    result = await make_transport().deliver(str(server.make_url("/inbox")), ACTIVITY)
    assert (result.outcome, result.scheme) == (DeliveryOutcome.DELIVERED, "cavage")
    assert hosts.rows[host].signature_scheme == "cavage"


async def test_a_signed_get_is_signed_as_the_peer_asks(
    serve: Any, make_transport: Any, hosts: MemoryHosts, rsa_key: Any
) -> None:
    peer = ChallengingPeer(rsa_key.public_key(), ("@method", "@target-uri", "date"), nonce=True)
    inbox, host = await start(serve, peer)
    fetched = await make_transport().fetch(inbox.replace("/inbox", "/object"))
    assert fetched.status == 200
    assert peer.seen == ["cavage", "asked"]
    assert (
        hosts.rows[host].signature_scheme == 'rfc9421 mine=("@method" "@target-uri" "date");created'
    )
