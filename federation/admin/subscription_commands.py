"""`federation admin subscriptions ...`: follow shared blocklists by URL."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from federation.admin.blocklist_commands import FORMATS
from federation.admin.cli_tools import AdminClient, cell, show, table

Args = argparse.Namespace
COLUMNS = ("id", "title", "listed", "status", "fetched_at", "error")


def _row(s: dict[str, Any]) -> dict[str, Any]:
    last = s["last"] or {}
    return {
        **s,
        "status": last.get("status", "not fetched yet"),
        "fetched_at": last.get("at"),
        "error": last.get("error"),
    }


def subscriptions_list(c: AdminClient, a: Args) -> None:
    data = c.call("GET", "/subscriptions")
    show(a, data, lambda d: table([_row(s) for s in d["items"]], COLUMNS))


def subscribe(c: AdminClient, a: Args) -> None:
    body: dict[str, Any] = {"url": a.list_url, "title": a.title, "max_shrink": a.max_shrink}
    if a.format:
        body["format"] = a.format
    data = c.call("POST", "/subscriptions", body)
    show(a, data, lambda d: f"subscribed to {d['url']} (id {d['id']}); first fetch due now")


def unsubscribe(c: AdminClient, a: Args) -> None:
    data = c.call("DELETE", f"/subscriptions/{a.id}")
    show(a, data, lambda d: f"unsubscribed: {len(d['removed'])} entries retracted")


def refresh(c: AdminClient, a: Args) -> None:
    show(a, c.call("POST", f"/subscriptions/{a.id}/refresh"), fetch_line)


def history(c: AdminClient, a: Args) -> None:
    def render(d: dict[str, Any]) -> str:
        due = cell(d["next_fetch_at"])
        head = f"{d['title']} <{d['url']}>: {d['listed']} entries, next fetch {due}"
        return head + "\n" + "\n".join(fetch_line(f) for f in d["history"])

    show(a, c.call("GET", f"/subscriptions/{a.id}"), render)


def fetch_line(f: dict[str, Any]) -> str:
    line = f"{cell(f['at'])}  {f['status']}: {f['listed']} listed, +{f['added']} -{f['removed']}"
    return line + (f"  ({f['error']})" if f["error"] else "")


def add_subscription_commands(
    g: Any, leaf: Callable[[Any, str, Any, str], argparse.ArgumentParser]
) -> None:
    leaf(g, "list", subscriptions_list, "subscribed blocklists and their last fetch")
    p = leaf(g, "add", subscribe, "subscribe to a blocklist by URL (CSV, plain or JSON)")
    p.add_argument("list_url", metavar="URL")  # "url" is the gateway's (--url)
    p.add_argument("--title", default="")
    p.add_argument("--format", choices=FORMATS, help="default: guessed from each fetch")
    p.add_argument(
        "--max-shrink", type=float, default=0.5, help="hold back a list that lost more than this"
    )
    leaf(g, "remove", unsubscribe, "unsubscribe, retracting what it alone held").add_argument("id")
    leaf(g, "refresh", refresh, "fetch a subscribed list now").add_argument("id")
    leaf(g, "show", history, "a subscription's fetch history").add_argument("id")
