"""The `federation` command: run a gateway, its reference backend or a local federation.

Each subcommand has its own --help; admin operations are `federation admin ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from federation.errors import FederationError

EXIT_CONFIG = 2
EXIT_RUNTIME = 1


def _instance_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--instance",
        "-i",
        type=Path,
        default=None,
        help="instance file (TOML); FEDERATION_* environment variables override it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="federation", description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    _instance_arg(serve)
    serve.add_argument(
        "--role",
        choices=["web", "worker", "all"],
        default="all",
        help="web: HTTP only; worker: queue workers only; all: both",
    )
    serve.add_argument(
        "--processes",
        type=_process_count,
        default=1,
        metavar="N|auto",
        help="run N processes of this role on one port (SO_REUSEPORT) and one store, each"
        " with its job runner; auto: one per CPU. Default 1",
    )
    # One of the processes `serve --processes N` starts: it shares the port and the store.
    serve.add_argument("--sibling", action="store_true", help=argparse.SUPPRESS)

    keys = sub.add_parser("keys", help="instance keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    show = keys_sub.add_parser("show", help="print the public keys (never the private ones)")
    _instance_arg(show)

    backend = sub.add_parser("backend", help="the reference backend")
    backend_sub = backend.add_subparsers(dest="backend_command", required=True)
    bserve = backend_sub.add_parser("serve", help="run the reference backend")
    _instance_arg(bserve)

    init = sub.add_parser("init", help="write a new instance file with safe defaults, and keys")
    init.add_argument("--domain", required=True, help="the public DNS name, e.g. example.org")
    init.add_argument(
        "--dir", type=Path, default=Path("."), help="where to write instance.toml and keys/"
    )

    dev = sub.add_parser("dev", help="run a local federation: every instance with its backend")
    dev.add_argument(
        "instances", nargs="*", type=Path, help="instance files (default: instances/*.toml)"
    )
    from federation.admin import cli as admin_cli
    from federation.admin import lookup_cli

    admin_cli.add_parser(sub)
    lookup_cli.add_parsers(sub)
    return parser


def _settings(path: Path | None, role: str | None = None):  # type: ignore[no-untyped-def]
    """The instance's settings; with a role, the process logs as that instance and role."""
    from federation.config import load_settings

    settings = load_settings(path)
    if role is not None:
        from federation.observability.logs import configure

        secrets = (settings.admin_token, settings.backend_token)
        level = logging.getLevelName(logging.getLogger().level)
        configure(settings.name, role, settings.log_format.value, level, secrets)
    return settings


def _process_count(value: str) -> int:
    from federation.processes import process_count

    try:
        return process_count(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number >= 1 or auto, not {value!r}") from None


def _serve(args: argparse.Namespace) -> None:
    from federation.app import create_app
    from federation.serving import run_until_stopped, run_without_listening

    role = "gateway" if args.role == "all" else f"gateway-{args.role}"
    settings = _settings(args.instance, role)
    if args.processes > 1:
        from federation.siblings import supervise

        supervise(args, settings)
        return
    app = create_app(settings, role=args.role, owns_store=not args.sibling)
    run = _loop_runner(settings.event_loop)
    if args.role == "worker":
        # Workers serve no HTTP: several of them (and a web process) share one machine.
        run(run_without_listening(app, f"gateway {settings.name} worker"))
        return
    run(
        run_until_stopped(
            app,
            settings.listen_host,
            settings.listen_port,
            f"gateway {settings.name}",
            header_timeout=settings.limits.header_timeout,
            body_timeout=settings.limits.body_timeout,
            reuse_port=args.sibling,
        )
    )


def _loop_runner(event_loop: str) -> Callable[[Coroutine[Any, Any, None]], None]:
    if event_loop == "uvloop":
        import uvloop

        return uvloop.run
    return asyncio.run


def _keys_show(args: argparse.Namespace) -> None:
    from federation.discovery import ActorUrls
    from federation.keys import load_or_create_keys

    settings = _settings(args.instance)
    keys = load_or_create_keys(settings.key_dir)
    urls = ActorUrls(settings.base_url)
    print(f"actor:        {urls.actor}")
    print(f"rsa key id:   {urls.rsa_key_id}")
    print(keys.rsa_public_pem().rstrip())
    print(f"ed25519 key id: {urls.ed25519_key_id}")
    print(f"ed25519 multikey: {keys.ed25519_multibase()}")


def _backend_serve(args: argparse.Namespace) -> None:
    from federation.refbackend.app import serve_backend

    asyncio.run(serve_backend(_settings(args.instance, "backend")))


def _init(args: argparse.Namespace) -> None:
    from federation.scaffold import next_steps, write_instance

    print(next_steps(write_instance(args.domain, args.dir)), end="")


def _dev(args: argparse.Namespace) -> None:
    from federation.devnet import run_devnet

    files = list(args.instances) or sorted(Path("instances").glob("*.toml"))
    if not files:
        raise FederationError("no instance files given and none in instances/")
    run_devnet(files)


def _inspect(args: argparse.Namespace) -> int:
    from federation.admin import lookup_cli
    from federation.storage import SqliteStore

    # A private store in memory: a lookup never writes to the instance's own.
    return asyncio.run(lookup_cli.inspect(args, SqliteStore(":memory:")))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if args.command == "admin":
        from federation.admin import cli as admin_cli

        return admin_cli.run(args)
    if args.command in ("lookup", "webfinger", "nodeinfo"):
        return _inspect(args)
    handlers = {"serve": _serve, "dev": _dev, "init": _init}
    try:
        if args.command == "keys":
            _keys_show(args)
        elif args.command == "backend":
            _backend_serve(args)
        else:
            handlers[args.command](args)
    except FederationError as exc:
        from federation.errors import ConfigError, KeyError_

        print(f"federation: {exc}", file=sys.stderr)
        return EXIT_CONFIG if isinstance(exc, ConfigError | KeyError_) else EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
