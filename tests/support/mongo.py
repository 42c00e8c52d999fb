"""A MongoDB-wire server for the tests: mongoeco in its own Python 3.13 venv, or a real MongoDB.

No real `mongod` can be installed here, so the tests start mongoeco's wire server
(scripts/setup-mongoeco makes .venv-mongoeco) on 127.0.0.1, on a port it picks itself and
reports, so parallel runs never collide. Set FEDERATION_TEST_MONGODB_URL (e.g.
``mongodb://localhost:27017``) to run the same tests against a real MongoDB instead.

The server starts on first use (so a run without MongoDB tests never pays for it) and is
stopped by the session fixture in tests/conftest.py, or at exit.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONGOECO_PYTHON = ROOT / ".venv-mongoeco" / "bin" / "python"
URL_VARIABLE = "FEDERATION_TEST_MONGODB_URL"
START_TIMEOUT = 60.0

# Runs inside .venv-mongoeco: serve until SIGTERM, printing the bound port once listening.
_SERVER_SCRIPT = """
import asyncio, signal
import sys
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer

async def main():
    engine = SQLiteEngine() if "sqlite" in sys.argv else None
    server = AsyncMongoEcoProxyServer(host="127.0.0.1", port=0, engine=engine)
    address = await server.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(address.port, flush=True)
    await stop.wait()
    await server.close()

asyncio.run(main())
"""


@dataclass
class MongoServer:
    """Where the tests' MongoDB listens; `process` is None for an external (real) server."""

    url: str  # mongodb://host:port[/?options], no database
    process: subprocess.Popen[bytes] | None = None

    @property
    def is_mongoeco(self) -> bool:
        return self.process is not None

    def database_url(self, name: str | None = None) -> str:
        """The URL of one database (a fresh, unique one by default)."""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


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
            pytest.skip(reason)
        external = os.environ.get(URL_VARIABLE)
        _shared = MongoServer(external) if external else start_mongoeco()
        atexit.register(_shared.stop)
    return _shared


def stop_shared_server() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


def start_mongoeco() -> MongoServer:
    """Start mongoeco's wire server on 127.0.0.1 and wait until it reports its port."""
    log = Path(tempfile.mkstemp(prefix="mongoeco-", suffix=".log")[1])
    with log.open("ab") as err:  # a file, not a pipe: nobody drains a pipe while tests run
        process = subprocess.Popen(
            [str(MONGOECO_PYTHON), "-c", _SERVER_SCRIPT, os.environ.get("MONGOECO_ENGINE", "")],
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the server
        )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline().strip() if ready else b""
    if not line.isdigit():
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"mongoeco did not start (log {log}):\n{log.read_text()[-2000:]}")
    url = f"mongodb://127.0.0.1:{int(line)}/?directConnection=true"
    return MongoServer(url, process)
