"""`federation serve --processes N`: N sibling gateway processes of one instance, one port
(SO_REUSEPORT), one store, kept running by federation.processes.Supervisor."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from federation.app import open_store
from federation.config import Settings
from federation.processes import Supervisor, cli
from federation.storage.sqlite import SqliteStore

log = logging.getLogger("federation.processes")


def supervise(args: argparse.Namespace, settings: Settings) -> None:
    if args.role == "all":
        asyncio.run(_release_previous_leases(settings))
    command = cli("--log-level", args.log_level, "serve", "--role", args.role, "--sibling")
    if args.instance is not None:
        command += ["--instance", str(args.instance)]
    base = settings.metrics_listen_port
    # Each process has its own metrics; with a metrics port, each its own port from it on.
    env = {} if base is None else {n: _metrics_port(base, n) for n in range(args.processes)}
    log.info("starting %d %s processes on port %d", args.processes, args.role, settings.listen_port)
    Supervisor(command, args.processes, env).run()


def _metrics_port(base: int, slot: int) -> dict[str, str]:
    return {"FEDERATION_METRICS_LISTEN_PORT": str(base + slot)}


async def _release_previous_leases(settings: Settings) -> None:
    """Before the siblings start, a SQLite store is ours alone: leases in it are a previous
    run's, whose processes are dead, so they go at once (MongoDB may be shared with other
    machines: there the heartbeats move a dead process's jobs)."""
    store = open_store(settings)
    if not isinstance(store, SqliteStore):
        return
    await store.open()
    try:
        released = await store.release_all_leases(time.time())
        if released:
            log.info("released %d lease(s) left by a previous run", released)
    finally:
        await store.close()
