"""A MongoDB-wire server for the tests: mongoeco in its own Python 3.13 venv, or a real MongoDB.

No real `mongod` can be installed here, so the tests start mongoeco's wire server
(scripts/setup-mongoeco makes .venv-mongoeco; bench.mongoeco starts it) on
127.0.0.1, on a port it picks itself, so parallel runs never collide. Set
FEDERATION_TEST_MONGODB_URL (e.g. ``mongodb://localhost:27017``) to run the same tests
against a real MongoDB instead.

The server starts on first use (so a run without MongoDB tests never pays for it) and is
stopped by the session fixture in tests/conftest.py, or at exit.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.mongoeco import MONGOECO_PYTHON, MongoecoProcess, start_mongoeco
from federation.storage.mongodb import MongoStore, Retention

URL_VARIABLE = "FEDERATION_TEST_MONGODB_URL"
# No TTL indexes: the server expires records on its own real-time clock, so a test's records
# (some stamped by a frozen clock years ago) would vanish under it.
NO_TTL = Retention(done_jobs=None, negative_cache=None)


@dataclass
class MongoServer:
    """Where the tests' MongoDB listens; `mongoeco` is None for an external (real) server."""

    url: str  # mongodb://host:port[/?options], no database
    mongoeco: MongoecoProcess | None = None

    @property
    def is_mongoeco(self) -> bool:
        return self.mongoeco is not None

    def database_url(self, name: str | None = None) -> str:
        """The URL of one database (a fresh, unique one by default)."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def stop(self) -> None:
        if self.mongoeco is not None:
            self.mongoeco.stop()


_shared: MongoServer | None = None


def unavailable_reason() -> str | None:
    """Why no MongoDB can be had for the tests, or None when one can."""
    if os.environ.get(URL_VARIABLE) or MONGOECO_PYTHON.exists():
        return None
    venv = MONGOECO_PYTHON.parent.parent
    return (
        f"no MongoDB for the tests: run scripts/setup-mongoeco (makes {venv})"
        f" or set {URL_VARIABLE} to a real MongoDB"
    )


def shared_server() -> MongoServer:
    """The session's server, started on first use; skips the test when there is none."""
    global _shared
    if _shared is None:
        reason = unavailable_reason()
        if reason is not None:
            # scripts/test always provides the server, so there a missing one is a failure.
            if os.environ.get("FEDERATION_REQUIRE_MONGODB"):
                pytest.fail(reason)
            pytest.skip(reason)
        external = os.environ.get(URL_VARIABLE)
        if external:
            _shared = MongoServer(external)
        else:
            process = start_mongoeco()
            _shared = MongoServer(process.url, process)
        atexit.register(_shared.stop)
    return _shared


@asynccontextmanager
async def fresh_store(url: str) -> AsyncIterator[MongoStore]:
    """A store opened on the database at `url` (a fresh one: `MongoServer.database_url()`),
    without TTL indexes; the database is dropped at the end."""
    store = MongoStore(url, retention=NO_TTL)
    await store.open()
    try:
        yield store
    finally:
        await store.drop_database()
        await store.close()


def stop_shared_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None
