"""The baseline: a trivial aiohttp server in its own process, the best any aiohttp handler
can do on this machine. HTTP benches report the gateway as a ratio to it.

With `--upstream URL` it also serves `GET /proxy/{id}`: one aiohttp client GET of
`URL/{id}` per request, its body passed on. That is the least any handler pays that asks a
backend per request, the ceiling for a gateway that must (bench/objects.py).

Run: python -m bench.baseline --port P [--upstream URL --upstream-token T]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
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


UPSTREAM = web.AppKey("upstream", str)
UPSTREAM_HEADERS = web.AppKey("upstream_headers", dict[str, str])
SESSION = web.AppKey("session", aiohttp.ClientSession)


async def _proxy(request: web.Request) -> web.Response:
    url = f"{request.app[UPSTREAM]}/{request.match_info['id']}"
    async with request.app[SESSION].get(url, headers=request.app[UPSTREAM_HEADERS]) as resp:
        body = await resp.read()
    return web.Response(body=body, status=resp.status, content_type="application/json")


async def _session(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit_per_host=32))
    yield
    await app[SESSION].close()


def make_app(upstream: str | None = None, token: str = "") -> web.Application:
    app = web.Application()
    app.router.add_post("/inbox", _inbox)
    app.router.add_get("/resolve", _resolve)
    app.router.add_get("/healthz", _health)
    if upstream:
        app[UPSTREAM] = upstream.rstrip("/")
        app[UPSTREAM_HEADERS] = {"Authorization": f"Bearer {token}"} if token else {}
        app.cleanup_ctx.append(_session)
        app.router.add_get("/proxy/{id}", _proxy)
    return app


@contextmanager
def baseline_server(root: Path, upstream: str = "", token: str = "") -> Iterator[int]:
    """Run the baseline pinned to the server CPU; yields its port."""
    port = free_port()
    args = ["-m", "bench.baseline", "--port", str(port)]
    if upstream:
        args += ["--upstream", upstream, "--upstream-token", token]
    health = f"http://127.0.0.1:{port}/healthz"
    log = root / ("proxy.log" if upstream else "baseline.log")
    with running(args, cpu=SERVER_CPU, log=log, health=health):
        yield port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", default="")
    parser.add_argument("--upstream-token", default="")
    args = parser.parse_args()
    app = make_app(args.upstream, args.upstream_token)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
