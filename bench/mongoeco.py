"""Start mongoeco's MongoDB-wire server (a local stand-in for mongod) for tests and benchmarks.

mongoeco needs Python >= 3.13, so it runs from its own venv (.venv-mongoeco, made by
scripts/setup-mongoeco) in a child process on 127.0.0.1, on a port it picks and reports.
"""

from __future__ import annotations

import select
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONGOECO_PYTHON = ROOT / ".venv-mongoeco" / "bin" / "python"
START_TIMEOUT = 60.0

# Runs inside .venv-mongoeco: serve until SIGTERM, printing the bound port once listening.
_SERVER_SCRIPT = """
import asyncio, signal
from mongoeco.wire import AsyncMongoEcoProxyServer

async def main():
    server = AsyncMongoEcoProxyServer(host="127.0.0.1", port=0)
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
class MongoecoProcess:
    url: str  # mongodb://127.0.0.1:PORT/?directConnection=true (no database)
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def available() -> bool:
    return MONGOECO_PYTHON.exists()


def start_mongoeco() -> MongoecoProcess:
    """Start the server and wait until it reports its port; RuntimeError (with its log) if not."""
    log = Path(tempfile.mkstemp(prefix="mongoeco-", suffix=".log")[1])
    with log.open("ab") as err:  # a file, not a pipe: nobody drains a pipe meanwhile
        process = subprocess.Popen(
            [str(MONGOECO_PYTHON), "-c", _SERVER_SCRIPT],
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
    return MongoecoProcess(f"mongodb://127.0.0.1:{int(line)}/?directConnection=true", process, log)
