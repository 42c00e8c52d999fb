"""The load generator: a raw HTTP/1.1 keep-alive client, run in its own process on CPU 1.

Requests are prepared (built, signed) BEFORE the timed window and kept in this process, so
the window measures only the server. A hand-rolled asyncio protocol instead of the aiohttp
client: on one core the aiohttp client tops out below what a trivial aiohttp server can
answer, which would make every ratio to that baseline look better than it is.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from bench.common import CLIENT_CPU, pin

Item = tuple[str, bytes]  # (tag, the complete request bytes)
Builder = Callable[[int], list[Item]]

_PREPARED: dict[str, deque[Item]] = {}
MAX_CONNECTIONS = 512


def http_request(method: str, host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class LoadResult:
    elapsed: float = 0.0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds
    errors: int = 0  # connection-level failures
    late: int = 0  # open loop: sends that started more than 1 s behind schedule

    @property
    def count(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def record(self, tag: str, status: int, latency: float) -> None:
        self.statuses.setdefault(tag, Counter())[status] += 1
        self.latencies.setdefault(tag, []).append(latency)

    def all_latencies(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._buf = bytearray()
        self._waiter: asyncio.Future[int] | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is None or self._waiter.done():
            return
        status = _complete_response(self._buf)
        if status is not None:
            self._waiter.set_result(status)

    async def request(self, data: bytes) -> int:
        assert self._transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _complete_response(buf: bytearray) -> int | None:
    """The status of the complete response at the head of `buf` (consumed), or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).decode("latin-1")
    length, chunked = 0, False
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        stop = buf.find(b"0\r\n\r\n", end + 4)
        if stop < 0:
            return None
        total = stop + 5
    else:
        total = end + 4 + length
        if len(buf) < total:
            return None
    del buf[:total]
    return int(head[9:12])


async def _connect(host: str, port: int) -> _Connection:
    _, conn = await asyncio.get_running_loop().create_connection(_Connection, host, port)
    return conn


async def _closed_loop(
    host: str, port: int, items: Callable[[], Item | None], seconds: float, concurrency: int
) -> LoadResult:
    result = LoadResult()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        conn = await _connect(host, port)
        while time.perf_counter() < deadline and (item := items()) is not None:
            tag, data = item
            start = time.perf_counter()
            try:
                status = await conn.request(data)
            except ConnectionError:
                result.errors += 1
                conn = await _connect(host, port)
                continue
            result.record(tag, status, time.perf_counter() - start)
            if conn.closed:
                conn = await _connect(host, port)
        conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


async def _open_loop(
    host: str, port: int, items: Callable[[], Item | None], seconds: float, rate: float
) -> LoadResult:
    """Send at a fixed rate whatever the server does; latency counts from the scheduled time."""
    result = LoadResult()
    idle: list[_Connection] = []
    tasks: set[asyncio.Task[None]] = set()
    slots = asyncio.Semaphore(MAX_CONNECTIONS)

    async def send(tag: str, data: bytes, scheduled: float) -> None:
        async with slots:
            conn = idle.pop() if idle else await _connect(host, port)
            try:
                status = await conn.request(data)
            except ConnectionError:
                result.errors += 1
                return
            result.record(tag, status, time.perf_counter() - scheduled)
            if not conn.closed:
                idle.append(conn)

    start = time.perf_counter()
    for n in itertools.count():
        scheduled = start + n / rate
        if scheduled - start >= seconds or (item := items()) is None:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -1.0:
            result.late += 1
        task = asyncio.create_task(send(*item, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return result


# -- what runs inside the generator process --------------------------------------------------


def prepare(name: str, builder: Builder, count: int) -> float:
    """Build `count` more requests into the named pool (outside any timed window)."""
    start = time.perf_counter()
    _PREPARED.setdefault(name, deque()).extend(builder(count))
    return time.perf_counter() - start


def _source(name: str, cycle: bool) -> Callable[[], Item | None]:
    pool = _PREPARED[name]
    if cycle:
        it: Iterator[Item] = itertools.cycle(list(pool))
        return lambda: next(it)
    return lambda: pool.popleft() if pool else None


def closed(
    name: str, host: str, port: int, seconds: float, concurrency: int, cycle: bool = False
) -> LoadResult:
    return asyncio.run(_closed_loop(host, port, _source(name, cycle), seconds, concurrency))


def open_rate(
    name: str, host: str, port: int, seconds: float, rate: float, cycle: bool = False
) -> LoadResult:
    return asyncio.run(_open_loop(host, port, _source(name, cycle), seconds, rate))


def remaining(name: str) -> int:
    return len(_PREPARED.get(name, ()))


def _init() -> None:
    pin(0, CLIENT_CPU)


def generator() -> ProcessPoolExecutor:
    """One worker process pinned to the client CPU; it keeps prepared requests across calls."""
    return ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=_init)
