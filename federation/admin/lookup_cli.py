"""The `federation lookup`, `federation webfinger` and `federation nodeinfo` commands.

Exit codes: 0 found; 1 the fetch failed or the target is not there (the reason on stderr);
2 usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from federation.admin.lookup import Inspector, render
from federation.config import load_settings
from federation.discovery import ActorUrls
from federation.errors import ConfigError, TransportError
from federation.http.session import make_session
from federation.http.transport import Transport
from federation.keys import load_or_create_keys
from federation.ports import Store
from federation.resolve.actors import InvalidActor
from federation.resolve.keyservice import KeyService
from federation.signatures import SigningKey

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(sub: Any) -> None:
    def command(name: str, help_: str, what: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.add_argument("target", help=what)
        p.add_argument("--instance", "-i", type=Path, help="instance file: whose keys sign")
        p.add_argument("--json", action="store_true", help="one JSON object, for scripts")
        return p

    p = command(
        "lookup",
        "fetch what a remote server serves, signed with this instance's keys",
        "acct:user@host, an actor or object URL, urn:block:..., or a domain",
    )
    p.add_argument("--raw", action="store_true", help="print the body exactly as served")
    command("webfinger", "a host's WebFinger answer for an acct: handle", "acct:user@host")
    command("nodeinfo", "a domain's NodeInfo 2.1 document", "a domain, host[:port]")


async def inspect(args: argparse.Namespace, store: Store) -> int:
    """Run the command; `store` is private and in memory (keys and schemes learned)."""
    try:
        settings = load_settings(args.instance)
    except ConfigError as exc:
        print(f"federation {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    keys = load_or_create_keys(settings.key_dir)
    await store.open()
    session = make_session(settings)
    try:
        key = SigningKey(ActorUrls(settings.base_url).rsa_key_id, keys.rsa)
        transport = Transport(session=session, settings=settings, key=key, hosts=store)
        key_service = KeyService(cache=store, transport=transport, clock=time.time)
        inspector = Inspector(transport, key_service, settings.scheme)
        return await _run(inspector, args)
    finally:
        await session.close()
        await store.close()


async def _run(inspector: Inspector, args: argparse.Namespace) -> int:
    try:
        if args.command == "lookup":
            report = await inspector.lookup(args.target)
            if args.raw:
                sys.stdout.buffer.write(report.answer.body)
            else:
                print(json.dumps(report.as_json(), indent=2) if args.json else render(report))
            return EXIT_OK
        fetch = inspector.webfinger if args.command == "webfinger" else inspector.nodeinfo
        print(json.dumps(await fetch(args.target), indent=2, ensure_ascii=False))
        return EXIT_OK
    except (TransportError, InvalidActor, ValueError) as exc:
        print(f"federation {args.command}: {args.target}: {exc}", file=sys.stderr)
        return EXIT_FAILED
