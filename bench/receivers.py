"""Receiving hosts for fan-out: one process serving many aiohttp sites (one per port, so each
is a distinct host to the gateway), counting the POSTs that arrive in shared memory."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bench.common import CLIENT_CPU, pin


def _serve(hosts: int, counter: Synchronized[int], ports: Any) -> None:
    pin(0, CLIENT_CPU)

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        with counter.get_lock():
            counter.value += 1
        return web.Response(status=202)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", inbox)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for _ in range(hosts):  # port 0: the kernel picks, so no race with other processes
            await web.TCPSite(runner, "127.0.0.1", 0).start()
        ports.put([int(address[1]) for address in runner.addresses])
        await asyncio.Event().wait()

    asyncio.run(main())


class ReceiverProcess:
    """A child process serving receiving hosts: it puts its listening ports on `ports_queue`
    once ready. Use it as a context manager; `wait_until` waits on a count it keeps."""

    start_timeout = 30.0

    def __init__(self, proc: BaseProcess, ports_queue: Any) -> None:
        self.ports: list[int] = []
        self._proc = proc
        self._ports = ports_queue

    def wait_until(self, seen: Callable[[], int], target: int, timeout: float) -> float:
        """Seconds until `seen()` reaches `target`; raises TimeoutError past `timeout`."""
        start = time.perf_counter()
        while (count := seen()) < target:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"only {count} of {target} deliveries after {timeout} s")
            time.sleep(0.002)
        return time.perf_counter() - start

    def __enter__(self) -> Self:
        self._proc.start()
        try:
            self.ports = self._ports.get(timeout=self.start_timeout)
        except queue.Empty:
            self._proc.terminate()
            raise RuntimeError("receivers did not start") from None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._proc.terminate()
        self._proc.join(10)


class Receivers(ReceiverProcess):
    """`hosts` receiving hosts on loopback; `count` is how many POSTs arrived so far."""

    def __init__(self, hosts: int) -> None:
        ctx = get_context("spawn")
        self._counter: Synchronized[int] = ctx.Value("q", 0)
        ports: Any = ctx.Queue()
        proc = ctx.Process(target=_serve, args=(hosts, self._counter, ports), daemon=True)
        super().__init__(proc, ports)

    @property
    def count(self) -> int:
        return int(self._counter.value)

    def wait_for(self, target: int, timeout: float) -> float:
        """Seconds until `count` reaches `target`; raises TimeoutError past `timeout`."""
        return self.wait_until(lambda: self.count, target, timeout)
