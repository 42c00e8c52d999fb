"""What every `federation admin` subcommand uses: the admin API's client, its errors and the
exit codes, the output (tables, --json), and the wait for a long operation."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
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


def actor_path(actor: str) -> str:
    return quote(actor, safe="")
