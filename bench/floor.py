"""The inbox's floor: the least a handler can do that accepts a signed activity durably. A
trivial aiohttp handler that reads the body, checks its Digest, verifies the draft-cavage
signature with raw `cryptography` (the one Ed25519 key it was given: no key lookup, no
policy) and inserts one row into SQLite in WAL mode with the gateway's synchronous setting,
one transaction per request. bench/flood.py reports the gateway's accept path against it.

Run: python -m bench.floor --port P --public-key HEX [--store FILE] [--synchronous NORMAL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bench.common import SERVER_CPU, free_port, running

_PARAM = re.compile(r'(\w+)="([^"]*)"')
_ACCEPTED = b'{"status":"accepted"}'
KEY = web.AppKey("key", Ed25519PublicKey)
DB = web.AppKey("db", sqlite3.Connection)


def _signing_string(request: web.Request, covered: str) -> bytes:
    lines = []
    for name in covered.split():
        if name == "(request-target)":
            lines.append(f"(request-target): {request.method.lower()} {request.path_qs}")
        else:
            lines.append(f"{name}: {request.headers[name]}")
    return "\n".join(lines).encode()


async def _inbox(request: web.Request) -> web.Response:
    body = await request.read()
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    params = dict(_PARAM.findall(request.headers.get("Signature", "")))
    if request.headers.get("Digest") != digest or "signature" not in params:
        raise web.HTTPBadRequest()
    try:
        request.app[KEY].verify(
            base64.b64decode(params["signature"]),
            _signing_string(request, params.get("headers", "date")),
        )
    except (InvalidSignature, KeyError):
        raise web.HTTPUnauthorized() from None
    db = request.app[DB]
    with db:
        db.execute("INSERT INTO inbox (body) VALUES (?)", (body,))
    return web.Response(body=_ACCEPTED, status=202, content_type="application/json")


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_app(public_key: bytes, store: Path, synchronous: str) -> web.Application:
    app = web.Application()
    app[KEY] = Ed25519PublicKey.from_public_bytes(public_key)

    async def database(app: web.Application) -> AsyncIterator[None]:
        db = sqlite3.connect(store, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, body BLOB)")
        db.isolation_level = "DEFERRED"  # `with db:` wraps each insert in one transaction
        app[DB] = db
        yield
        db.close()

    app.cleanup_ctx.append(database)
    app.router.add_post("/inbox", _inbox)
    app.router.add_get("/healthz", _health)
    return app


@contextmanager
def floor_server(root: Path, public_key: bytes, synchronous: str = "NORMAL") -> Iterator[int]:
    """Run the floor pinned to the server CPU; yields its port."""
    port = free_port()
    args = ["-m", "bench.floor", "--port", str(port), "--public-key", public_key.hex()]
    args += ["--store", str(root / "floor.sqlite3"), "--synchronous", synchronous]
    health = f"http://127.0.0.1:{port}/healthz"
    with running(args, cpu=SERVER_CPU, log=root / "floor.log", health=health):
        yield port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--public-key", required=True, help="the peer's raw Ed25519 key, hex")
    parser.add_argument("--store", type=Path, default=Path("floor.sqlite3"))
    parser.add_argument("--synchronous", default="NORMAL")
    args = parser.parse_args()
    app = make_app(bytes.fromhex(args.public_key), args.store, args.synchronous)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
