"""Parsed public keys are held in memory, least recently used dropped first.

The verify path asks the key service on every request; a key it has met is answered from memory
(no store read, no PEM parsing). Observed here by replacing the keys in the store: a key still held
answers as it was, a dropped one is read again and answers as the store now has it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.config import load_settings
from federation.http.transport import Transport, make_session
from federation.records import RemoteKey
from federation.resolve.keyservice import KeyService
from federation.signatures import SigningKey
from federation.storage import SqliteStore

# Key ids on a port nothing listens on, with private addresses refused: never fetchable.
IDS = [f"http://127.0.0.1:1/actors/{n}#main-key" for n in range(3)]
ROTATED_OWNER = "https://rotated.example/actor"


def _pem() -> str:
    public = Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture
async def keys(tmp_path: Path) -> AsyncIterator[tuple[KeyService, SqliteStore]]:
    store = SqliteStore(tmp_path / "k.sqlite3")
    await store.open()
    for key_id in IDS:
        await store.put_key(
            RemoteKey(
                key_id=key_id,
                owner=key_id.partition("#")[0],
                public_key_pem=_pem(),
                fetched_at=time.time(),
            )
        )
    settings = load_settings(None, domain="me.example")
    async with make_session(settings) as session:
        signing = SigningKey("https://me.example/actor#main-key", Ed25519PrivateKey.generate())
        transport = Transport(session=session, settings=settings, key=signing, hosts=store)
        service = KeyService(cache=store, transport=transport, clock=time.time, memory_keys=2)
        yield service, store
    await store.close()


async def test_keys_met_are_answered_from_memory_least_recently_used_dropped(
    keys: tuple[KeyService, SqliteStore],
) -> None:
    service, store = keys
    first = await service.resolve(IDS[0])
    assert first is not None
    assert await service.resolve(IDS[1]) is not None
    assert await service.resolve(IDS[0]) is first  # the same key object, not parsed again
    assert await service.resolve(IDS[2]) is not None  # over capacity: IDS[1] is dropped
    for key_id in IDS:  # the store now holds other keys: a key read from it is told apart
        await store.put_key(
            RemoteKey(
                key_id=key_id, owner=ROTATED_OWNER, public_key_pem=_pem(), fetched_at=time.time()
            )
        )
    assert await service.resolve(IDS[0]) is first
    held = await service.resolve(IDS[2])
    assert held is not None and held.owner != ROTATED_OWNER
    dropped = await service.resolve(IDS[1])
    assert dropped is not None and dropped.owner == ROTATED_OWNER
