"""`federation admin blocks import|export`: blocklists in Mastodon's CSV, plain or JSON form."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from federation.admin.cli_tools import EXIT_API, EXIT_USAGE, AdminClient, CliError, show

Args = argparse.Namespace
FORMATS = ("csv", "plain", "json")
SEVERITIES = ("suspend", "silence", "noop")


def import_list(c: AdminClient, a: Args) -> None:
    try:
        text = sys.stdin.read() if str(a.file) == "-" else a.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(EXIT_USAGE, f"cannot read {a.file}: {exc}") from None
    body: dict[str, Any] = {"text": text, "replace": a.replace, "apply": False}
    if a.format:
        body["format"] = a.format
    planned = c.call("POST", "/blocks/import", body)
    if not a.apply or planned["invalid"]:
        show(a, planned, render_diff)
        if a.apply:
            raise CliError(EXIT_API, f"{len(planned['invalid'])} invalid lines: nothing applied")
        return
    show(a, c.call("POST", "/blocks/import", {**body, "apply": True}), render_diff)


def export_list(c: AdminClient, a: Args) -> None:
    data = c.call("GET", "/blocks/export", query={"format": a.format})
    if a.output is not None:
        a.output.write_text(data["text"], encoding="utf-8")
        show(a, data, lambda d: f"wrote {d['count']} entries to {a.output} ({d['format']})")
        return
    show(a, data, lambda d: str(d["text"]).rstrip("\n"))


def render_diff(d: dict[str, Any]) -> str:
    state = "applied" if d["applied"] else "dry run, nothing applied (--apply applies it)"
    lines = [f"{d['format']} list: {state}"]
    section(lines, "added", d["added"], lambda b: f"+ {entry(b)}")
    section(
        lines,
        "changed",
        d["changed"],
        lambda ch: (
            f"~ {ch['domain']}  {ch['before']['severity']} -> {ch['after']['severity']}"
            + ("" if ch["before"]["by_admin"] else "  (taken over from a subscription)")
        ),
    )
    section(lines, "removed", d["removed"], lambda b: f"- {entry(b)}")
    lines.append(f"kept: {len(d['kept'])}")
    section(lines, "invalid", d["invalid"], lambda u: f"line {u['line']}: {u['reason']}")
    section(lines, "skipped", d["skipped"], lambda u: f"line {u['line']}: {u['reason']}")
    return "\n".join(lines)


def section(lines: list[str], name: str, items: list[Any], line: Callable[[Any], str]) -> None:
    lines.append(f"{name}: {len(items)}")
    lines.extend(f"  {line(item)}" for item in items)


def entry(b: dict[str, Any]) -> str:
    reason = f"  ({b['reason']})" if b["reason"] else ""
    return f"{b['domain']}  {b['severity']}{reason}"


def add_blocklist_commands(
    g: Any, leaf: Callable[[Any, str, Any, str], argparse.ArgumentParser]
) -> None:
    """`import` and `export` under the `blocks` group."""
    p = leaf(g, "import", import_list, "import a blocklist: a dry run printing the diff")
    p.add_argument("file", type=Path, help="the list (Mastodon CSV, plain or JSON); - for stdin")
    p.add_argument("--format", choices=FORMATS, help="default: guessed from the text")
    p.add_argument("--apply", action="store_true", help="apply it, all or nothing")
    p.add_argument("--replace", action="store_true", help="remove the entries it lacks")
    p = leaf(g, "export", export_list, "export the blocklist")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
