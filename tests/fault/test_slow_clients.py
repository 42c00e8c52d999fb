"""Slow clients (slowloris) are cut off: headers or a body that trickle in are not waited for.

A real `federation serve` process with short limits; raw sockets send a request a byte at a time.
The barrier is positive: each slow socket sees the server close it (recv returns b"").
"""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from tests.fault.conftest import NodeFactory

pytestmark = pytest.mark.fault

SLOW = 8


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(0.2)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (reading what it may have answered first)."""
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _trickle_until_closed(socks: list[socket.socket], payload: bytes, limit: float) -> float:
    """Send `payload` a byte per 0.2 s on every socket until the server closes all of them."""
    started = time.monotonic()
    open_socks = list(socks)
    for byte in (payload[i : i + 1] for i in range(len(payload))):
        for sock in list(open_socks):
            try:
                sock.sendall(byte)
            except (BrokenPipeError, ConnectionResetError):
                open_socks.remove(sock)
                continue
            if _closed_by_server(sock):
                open_socks.remove(sock)
        if not open_socks:
            return time.monotonic() - started
        assert time.monotonic() - started < limit, f"{len(open_socks)} slow sockets still open"
    raise AssertionError("the whole request was sent before the server closed the connection")


def _healthy(url: str) -> int:
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as resp:
        return int(resp.status)


def test_headers_that_trickle_in_are_cut_off_and_others_are_served(
    node_factory: NodeFactory,
) -> None:
    node = node_factory("slow", limits={"header_timeout": 1.0, "body_timeout": 1.0})
    node.start()
    socks = [_open(node.port) for _ in range(SLOW)]
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    took = _trickle_until_closed(socks, request, limit=10)
    print(f"\nslow headers: {SLOW} connections closed after {took:.1f} s")
    assert _healthy(node.url) == 200


def test_a_body_that_trickles_in_is_cut_off(node_factory: NodeFactory) -> None:
    node = node_factory("slowbody", limits={"header_timeout": 1.0, "body_timeout": 1.0})
    node.start()
    body = b'{"id": "x"}' + b" " * 400
    head = (
        b"POST /inbox HTTP/1.1\r\nHost: x\r\nContent-Type: application/activity+json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    sock = _open(node.port)
    sock.sendall(head)  # the headers arrive at once: only the body trickles
    took = _trickle_until_closed([sock], body, limit=10)
    print(f"\nslow body: closed after {took:.1f} s")
    assert _healthy(node.url) == 200
