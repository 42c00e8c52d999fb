"""The baseline: a trivial aiohttp server in its own process, the best any aiohttp handler
can do on this machine. HTTP benches report the gateway as a ratio to it.

Run: python -m bench.baseline --port P
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

from bench.common import SERVER_CPU, free_port, running

_ACCEPTED = json.dumps({"status": "accepted", "id": "x"}).encode()
_RESOLVED = json.dumps({"urn": "x", "status": "ok", "block": None, "cached": True}).encode()


async def _inbox(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_ACCEPTED, status=202, content_type="application/json")


async def _resolve(request: web.Request) -> web.Response:
    return web.Response(body=_RESOLVED, content_type="application/json")


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/inbox", _inbox)
    app.router.add_get("/resolve", _resolve)
    app.router.add_get("/healthz", _health)
    return app


@contextmanager
def baseline_server(root: Path) -> Iterator[int]:
    """Run the baseline pinned to the server CPU; yields its port."""
    port = free_port()
    args = ["-m", "bench.baseline", "--port", str(port)]
    health = f"http://127.0.0.1:{port}/healthz"
    with running(args, cpu=SERVER_CPU, log=root / "baseline.log", health=health):
        yield port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
