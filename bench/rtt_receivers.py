"""Receiving hosts at internet conditions: one process serving many hosts (one port each), each
answering after a chosen round-trip time, or blackholed (accepts, reads, never answers), or slow
(answers after SLOW_SECONDS), or refusing connections (a port nothing listens on).

Each host counts the POSTs it has answered in shared memory, so the bench can wait until every
inbox of a chosen set of hosts has the block. A POST counts when its answer leaves: that is
when the sending gateway learns of it, one RTT after it sent the request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Sequence
from enum import StrEnum
from multiprocessing import get_context
from typing import Any

from aiohttp import web

from bench.common import CLIENT_CPU, pin
from bench.receivers import ReceiverProcess

SLOW_SECONDS = 8.0


class Behaviour(StrEnum):
    RTT = "rtt"  # answers 202 after the round-trip time
    BLACKHOLE = "blackhole"  # accepts the connection, reads the request, never answers
    SLOW = "slow"  # answers 202 after SLOW_SECONDS
    REFUSED = "refused"  # nothing listens: connections are refused


def _closed_port() -> int:
    """A port nothing listens on (bound once by the kernel's choice, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(plan: Sequence[str], rtt: float, counts: Any, ports: Any) -> None:
    pin(0, CLIENT_CPU)
    by_port: dict[int, int] = {}  # port -> host index

    async def inbox(request: web.Request) -> web.StreamResponse:
        await request.read()
        index = by_port[int(request.transport.get_extra_info("sockname")[1])]  # type: ignore[union-attr]
        behaviour = plan[index]
        if behaviour == Behaviour.BLACKHOLE:
            await asyncio.Event().wait()  # never answers; ends when the client gives up
        await asyncio.sleep(SLOW_SECONDS if behaviour == Behaviour.SLOW else rtt)
        with counts.get_lock():
            counts[index] += 1
        return web.Response(status=202)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", inbox)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        listed: list[int] = []
        for index, behaviour in enumerate(plan):
            if behaviour == Behaviour.REFUSED:
                listed.append(_closed_port())
                continue
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))  # port 0: the kernel picks, no race with others
            await web.SockSite(runner, sock, backlog=1024).start()
            port = int(sock.getsockname()[1])
            by_port[port] = index
            listed.append(port)
        ports.put(listed)
        await asyncio.Event().wait()

    asyncio.run(main())


class RttReceivers(ReceiverProcess):
    """Hosts on loopback, one per entry of `plan`; `answered(indexes)` counts their answers."""

    start_timeout = 120.0

    def __init__(self, plan: Sequence[Behaviour], rtt: float) -> None:
        ctx = get_context("spawn")
        self.plan = list(plan)
        self._counts: Any = ctx.Array("q", len(plan))
        ports: Any = ctx.Queue()
        proc = ctx.Process(
            target=_serve,
            args=([str(b) for b in plan], rtt, self._counts, ports),
            daemon=True,
        )
        super().__init__(proc, ports)

    def indexes(self, *behaviours: Behaviour) -> list[int]:
        return [i for i, b in enumerate(self.plan) if b in behaviours]

    def answered(self, indexes: Iterable[int]) -> int:
        counts = self._counts
        return sum(int(counts[i]) for i in indexes)

    def wait_for(self, indexes: Sequence[int], target: int, timeout: float) -> float:
        """Seconds until the hosts at `indexes` answered `target` POSTs in all."""
        return self.wait_until(lambda: self.answered(indexes), target, timeout)
