"""The storage contract: every adapter in STORE_FACTORIES runs every test in this folder.

To add an adapter, append (name, factory) to STORE_FACTORIES. A factory takes pytest's
tmp_path and returns an async context manager yielding an opened, empty Store, closing it
on exit; it may call pytest.skip() when its server is not available.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from federation.ports import Store
from federation.storage import SqliteStore
from tests.support.mongo import fresh_store, shared_server

StoreFactory = Callable[[Path], AbstractAsyncContextManager[Store]]


@asynccontextmanager
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = SqliteStore(tmp_path / "contract.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def mongodb_store(tmp_path: Path) -> AbstractAsyncContextManager[Store]:
    """A fresh database per test on the shared server, dropped afterwards."""
    return fresh_store(shared_server().database_url())


STORE_FACTORIES: list[tuple[str, StoreFactory]] = [
    ("sqlite", sqlite_store),
    ("mongodb", mongodb_store),
]


@pytest.fixture(
    params=[factory for _, factory in STORE_FACTORIES],
    ids=[name for name, _ in STORE_FACTORIES],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    factory: StoreFactory = request.param
    async with factory(tmp_path) as opened:
        yield opened
