"""`federation admin ...`: drive a running gateway through its admin API.

Exit codes scripts can trust: 0 ok; 1 the API answered an error (its problem title goes to
stderr); 2 usage or configuration; 3 the gateway cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
STATES = ("pending", "accepted", "rejected", "undone")


class CliError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class AdminClient:
    """Blocking JSON client of /admin/api (urllib: a CLI needs no event loop)."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        url = f"{self.url}/admin/api{path}" + (f"?{urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (http/https only)
        req.add_header("Authorization", f"Bearer {self._token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:  # noqa: S310
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise CliError(EXIT_API, _problem_text(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(EXIT_UNREACHABLE, f"cannot reach {self.url}: {reason}") from None
        return json.loads(raw) if raw else None


def _problem_text(exc: urllib.error.HTTPError) -> str:
    try:
        problem = json.loads(exc.read())
        title, detail = str(problem["title"]), str(problem.get("detail") or "")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code} {exc.reason}"
    return f"{exc.code} {title}" + (f": {detail}" if detail else "")


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


# --- output ---------------------------------------------------------------------------------


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value > 1e9:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
    return str(value)


def duration(seconds: float | None) -> str | None:
    """An age for a person: 42s, 17m, 5h, 3d (None: nothing to show)."""
    if seconds is None:
        return None
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def show(args: argparse.Namespace, data: Any, render: Callable[[Any], str]) -> None:
    print(json.dumps(data, indent=2) if args.json else render(data))


FOLLOW_COLUMNS = ("actor", "state", "updated_at")


def follows_table(data: Any) -> str:
    return table(data["items"], FOLLOW_COLUMNS)


def follow_line(data: Any) -> str:
    return f"{data['actor']}: {data['state']}"


# --- progress -------------------------------------------------------------------------------


class Progress:
    """One status line on stderr: rewritten in place on a terminal, one line per change else."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._tty = sys.stderr.isatty()
        self._last = ""

    def update(self, text: str) -> None:
        if self._quiet or text == self._last:
            return
        self._last = text
        if self._tty:
            sys.stderr.write(f"\r\033[K{text}")
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self._tty and self._last and not self._quiet:
            sys.stderr.write("\n")


def watch(check: Callable[[], tuple[bool, str]], timeout: float, quiet: bool) -> None:
    """Poll `check` (finished?, status text) until finished, or fail after `timeout`."""
    progress = Progress(quiet)
    deadline = time.monotonic() + timeout
    try:
        while True:
            finished, text = check()
            progress.update(text)
            if finished:
                return
            if time.monotonic() > deadline:
                raise CliError(EXIT_API, f"still not done after {timeout:.0f} s: {text}")
            time.sleep(0.5)
    finally:
        progress.done()


# --- the parser and the entry point ---------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Add `admin` to the `federation` command's subparsers."""
    from federation.admin.commands import add_commands

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


def actor_path(actor: str) -> str:
    return quote(actor, safe="")
