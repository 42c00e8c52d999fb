"""Fixtures shared by the unit tests: an opened SQLite store, and those of the signed HTTP
client (tests/support/transport.py)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from federation.storage.sqlite import SqliteStore
from tests.support.transport import hosts, key, make_transport, rsa_key, serve

__all__ = ["hosts", "key", "make_transport", "rsa_key", "serve"]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """An opened, empty SQLite store in the test's own folder (a file, as in production);
    a test module may define its own `store` instead."""
    opened = SqliteStore(tmp_path / "gateway.sqlite3")
    await opened.open()
    yield opened
    await opened.close()
