"""`federation admin ...`: drive a running gateway through its admin API.

Exit codes scripts can trust: 0 ok; 1 the API answered an error (its problem title goes to
stderr); 2 usage or configuration; 3 the gateway cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from federation.admin import commands as do
from federation.admin.blocklist_commands import SEVERITIES, add_blocklist_commands
from federation.admin.cli_tools import EXIT_OK, EXIT_USAGE, STATES, AdminClient, CliError
from federation.admin.subscription_commands import add_subscription_commands

# --- configuration --------------------------------------------------------------------------


def connect(args: argparse.Namespace) -> AdminClient:
    """--url > FEDERATION_ADMIN_URL > the instance file's listen address; the token from
    FEDERATION_ADMIN_TOKEN or the instance file."""
    url = args.url or os.environ.get("FEDERATION_ADMIN_URL")
    token = os.environ.get("FEDERATION_ADMIN_TOKEN", "")
    if args.instance is not None:
        from federation.config import load_settings
        from federation.errors import ConfigError

        try:
            settings = load_settings(args.instance)
        except ConfigError as exc:
            raise CliError(EXIT_USAGE, str(exc)) from None
        url = url or settings.local_url(settings.listen_port)
        token = token or settings.admin_token
    if not url:
        raise CliError(EXIT_USAGE, "no gateway: give --instance, --url or FEDERATION_ADMIN_URL")
    if not token:
        raise CliError(EXIT_USAGE, "no admin token: set admin_token or FEDERATION_ADMIN_TOKEN")
    return AdminClient(url, token, args.timeout)


# --- the parser and the entry point ---------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add `admin` to the `federation` command's subparsers."""
    admin = sub.add_parser("admin", help="administer a running gateway over its admin API")
    _connection_options(admin, keep_default=True)
    # The same options after the subcommand too; there they override only when given.
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, keep_default=False)
    add_commands(admin.add_subparsers(dest="admin_group", required=True), common)


def _connection_options(parser: argparse.ArgumentParser, *, keep_default: bool) -> None:
    def default(value: Any) -> Any:
        return value if keep_default else argparse.SUPPRESS

    parser.add_argument(
        "--instance", "-i", type=Path, default=default(None), help="instance file: URL and token"
    )
    parser.add_argument(
        "--url", default=default(None), help="gateway URL (default: FEDERATION_ADMIN_URL)"
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="print the API's JSON"
    )
    parser.add_argument("--timeout", type=float, default=default(30.0), help="seconds per request")


def run(args: argparse.Namespace) -> int:
    try:
        client = connect(args)
        args.func(client, args)
    except CliError as exc:
        print(f"federation admin: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


# --- the subcommand tree ---------------------------------------------------------------------


class _Tree:
    """Builds the subcommand tree: groups, and leaves that each run one function."""

    def __init__(self, groups: Any, common: argparse.ArgumentParser) -> None:
        self.groups = groups
        self._common = common  # the connection options, accepted after the subcommand too

    def leaf(self, parent: Any, name: str, func: Any, help_: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_, parents=[self._common])
        p.set_defaults(func=func)
        return p

    def group(self, name: str, help_: str) -> Any:
        return self.groups.add_parser(name, help=help_).add_subparsers(dest="cmd", required=True)


def _waits(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--wait", action="store_true", help=f"show progress until {what}")
    p.add_argument("--wait-timeout", type=float, default=600.0)


def add_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    tree = _Tree(groups, common)
    _follow_commands(tree)
    _policy_commands(tree)
    _queue_commands(tree)
    _host_commands(tree)
    g = tree.group("cache", "the resolver cache")
    tree.leaf(g, "show", do.cache_show, "inspect one entry").add_argument("urn")
    p = tree.leaf(g, "purge", do.cache_purge, "purge one URN or a whole domain")
    p.add_argument("--urn")
    p.add_argument("--domain")


def _follow_commands(tree: _Tree) -> None:
    leaf = tree.leaf
    g = tree.group("following", "instances we follow")
    leaf(g, "list", do.following_list, "list").add_argument("--state", choices=STATES)
    leaf(g, "add", do.follow, "follow a domain, actor URL or acct:").add_argument("target")
    leaf(g, "remove", do.unfollow, "unfollow an actor").add_argument("actor")

    g = tree.group("followers", "instances following us")
    leaf(g, "list", do.followers_list, "list").add_argument("--state", choices=STATES)
    p = leaf(g, "approve", do.approve, "approve a pending follow request")
    p.add_argument("actor")
    _waits(p, "the follower's backfill is delivered")
    leaf(g, "reject", do.reject, "reject a follow request").add_argument("actor")
    leaf(g, "remove", do.remove_follower, "remove a follower").add_argument("actor")


def _policy_commands(tree: _Tree) -> None:
    leaf = tree.leaf
    g = tree.group("blocks", "domain blocks")
    leaf(g, "list", do.blocks_list, "list")
    p = leaf(g, "add", do.block, "block a domain (suspend: drops its follows, deliveries, cache)")
    p.add_argument("domain")
    p.add_argument("--reason", default="")
    p.add_argument("--severity", choices=SEVERITIES, default="suspend")
    leaf(g, "remove", do.unblock, "unblock a domain").add_argument("domain")
    add_blocklist_commands(g, leaf)
    add_subscription_commands(
        tree.group("subscriptions", "shared blocklists followed by URL"), leaf
    )

    p = leaf(tree.groups, "mode", do.mode, "show or set the federation mode")
    p.add_argument("mode", nargs="?", choices=("open", "approval", "allowlist"))
    p = leaf(tree.groups, "allowlist", do.allowlist, "show the allowlist, or replace it with --set")
    p.add_argument("--set", dest="domains", nargs="*", metavar="DOMAIN")


def _queue_commands(tree: _Tree) -> None:
    leaf = tree.leaf
    g = tree.group("queue", "the delivery queue")
    leaf(g, "show", do.queue, "jobs by state and host")
    leaf(g, "dead", do.dead, "dead deliveries and their last error").add_argument("--host")
    p = leaf(g, "retry", do.retry, "re-queue dead deliveries (one job, one host, or all)")
    p.add_argument("--host")
    p.add_argument("--job")
    _waits(p, "the re-queued deliveries drain")
    p = leaf(g, "jobs", do.host_jobs, "a host's queued jobs: next attempt and last error")
    p.add_argument("--host", required=True)
    p.add_argument("--dead", action="store_true", help="its dead jobs instead")
    p = leaf(g, "retry-now", do.retry_now, "make a host's queued jobs (or one) due now")
    p.add_argument("--host", required=True)
    p.add_argument("--job")


def _host_commands(tree: _Tree) -> None:
    leaf = tree.leaf
    g = tree.group("hosts", "delivery health of remote hosts")
    leaf(g, "list", do.hosts_list, "federation health of every known host")
    leaf(g, "show", do.host_show, "federation health of one host").add_argument("host")
    leaf(g, "unavailable", do.unavailable, "hosts marked unavailable")
    leaf(g, "reset", do.reset_host, "make a host available again").add_argument("host")
    leaf(g, "paused", do.paused_list, "hosts whose delivery is paused")
    p = leaf(g, "pause", do.pause_host, "pause delivery to a host (its jobs are kept, not tried)")
    p.add_argument("host")
    p.add_argument("--reason", default="")
    leaf(g, "resume", do.resume_host, "resume delivery to a host").add_argument("host")
