"""The `federation admin` subcommands: each one API call (or a call and a watch)."""

from __future__ import annotations

import argparse
from typing import Any

from federation.admin.cli_tools import (
    EXIT_API,
    EXIT_USAGE,
    AdminClient,
    CliError,
    actor_path,
    cell,
    duration,
    follow_line,
    follows_table,
    show,
    table,
    watch,
)

Args = argparse.Namespace


# --- following / followers ------------------------------------------------------------------


def following_list(c: AdminClient, a: Args) -> None:
    show(a, c.call("GET", "/following", query=_state(a)), follows_table)


def follow(c: AdminClient, a: Args) -> None:
    show(a, c.call("POST", "/following", {"target": a.target}), follow_line)


def unfollow(c: AdminClient, a: Args) -> None:
    show(a, c.call("DELETE", f"/following/{actor_path(a.actor)}"), follow_line)


def followers_list(c: AdminClient, a: Args) -> None:
    show(a, c.call("GET", "/followers", query=_state(a)), follows_table)


def approve(c: AdminClient, a: Args) -> None:
    show(a, c.call("POST", "/followers/approve", {"actor": a.actor}), follow_line)
    if a.wait:

        def backfill() -> tuple[bool, str]:
            p = c.call("GET", "/followers/backfill", query={"actor": a.actor})
            text = (
                f"backfill to {p['host']}: {p['backfill_jobs']} pages to read,"
                f" {p['deliveries_queued']} deliveries queued"
            )
            return p["backfill_jobs"] == 0 and p["deliveries_queued"] == 0, text

        watch(backfill, a.wait_timeout, a.json)


def reject(c: AdminClient, a: Args) -> None:
    show(a, c.call("POST", "/followers/reject", {"actor": a.actor}), follow_line)


def remove_follower(c: AdminClient, a: Args) -> None:
    show(a, c.call("POST", "/followers/remove", {"actor": a.actor}), follow_line)


def _state(a: Args) -> dict[str, str] | None:
    return {"state": a.state} if a.state else None


# --- moderation -----------------------------------------------------------------------------


def blocks_list(c: AdminClient, a: Args) -> None:
    show(
        a,
        c.call("GET", "/blocks"),
        lambda d: table(d["items"], ("domain", "severity", "by_admin", "reason", "created_at")),
    )


def block(c: AdminClient, a: Args) -> None:
    def render(d: dict[str, Any]) -> str:
        verb = {"suspend": "blocked", "silence": "silenced"}.get(d["block"]["severity"], "recorded")
        return (
            f"{verb} {d['block']['domain']}: dropped {d['follows_dropped']} follows,"
            f" {d['deliveries_dropped']} deliveries, {d['cache_purged']} cached objects"
        )

    body = {"domain": a.domain, "reason": a.reason, "severity": a.severity}
    show(a, c.call("POST", "/blocks", body), render)


def unblock(c: AdminClient, a: Args) -> None:
    c.call("DELETE", f"/blocks/{actor_path(a.domain)}")
    show(a, {"unblocked": a.domain}, lambda d: f"unblocked {d['unblocked']}")


def mode(c: AdminClient, a: Args) -> None:
    data = c.call("PUT", "/mode", {"mode": a.mode}) if a.mode else c.call("GET", "/mode")
    show(a, data, lambda d: str(d["mode"]))


def allowlist(c: AdminClient, a: Args) -> None:
    if a.domains is not None:
        data = c.call("PUT", "/allowlist", {"domains": a.domains})
    else:
        data = c.call("GET", "/allowlist")
    show(a, data, lambda d: "\n".join(d["domains"]) or "(empty)")


# --- queue, hosts, cache --------------------------------------------------------------------


def queue(c: AdminClient, a: Args) -> None:
    def render(d: dict[str, Any]) -> str:
        totals = ", ".join(f"{k} {v}" for k, v in d["totals"].items())
        rows = [{**r, "host": r["host"] or "(local)"} for r in d["counts"]]
        return f"{totals}\n\n" + table(rows, ("state", "host", "count"))

    show(a, c.call("GET", "/queue"), render)


def dead(c: AdminClient, a: Args) -> None:
    data = c.call("GET", "/queue/dead", query={"host": a.host} if a.host else None)
    columns = ("id", "host", "kind", "attempts", "updated_at", "last_error")
    show(a, data, lambda d: table(d["items"], columns))


def retry(c: AdminClient, a: Args) -> None:
    body = {k: v for k, v in (("host", a.host), ("job_id", a.job)) if v}
    data = c.call("POST", "/queue/retry", body)
    show(a, data, lambda d: f"re-queued {d['count']} dead deliveries")
    if a.wait and data["count"]:

        def draining() -> tuple[bool, str]:
            counts = c.call("GET", "/queue")["counts"]
            left = sum(
                r["count"]
                for r in counts
                if r["state"] == "queued" and (not a.host or r["host"] == a.host)
            )
            return left == 0, f"{a.host or 'all hosts'}: {left} still queued"

        watch(draining, a.wait_timeout, a.json)


def unavailable(c: AdminClient, a: Args) -> None:
    columns = ("host", "consecutive_failures", "last_failure_at", "last_success_at")
    show(a, c.call("GET", "/hosts/unavailable"), lambda d: table(d["items"], columns))


HOST_COLUMNS = (
    "host",
    "followers",
    "following",
    "delivered_24h",
    "failed_24h",
    "failed_7d",
    "breaker",
    "paused",
    "blocked",
    "consecutive_failures",
    "queued",
    "oldest_due_age",
    "next_attempt_at",
    "last_error",
)


def hosts_list(c: AdminClient, a: Args) -> None:
    def render(d: dict[str, Any]) -> str:
        items = [{**h, "oldest_due_age": duration(h.get("oldest_due_age"))} for h in d["items"]]
        return table(items, HOST_COLUMNS)

    show(a, c.call("GET", "/hosts"), render)


def host_show(c: AdminClient, a: Args) -> None:
    def render(d: dict[str, Any]) -> str:
        if not d["items"]:
            raise CliError(EXIT_API, f"nothing known about {a.host}")
        item = {k: v for k, v in d["items"][0].items() if k != "hourly"}
        return "\n".join(f"{k:21} {cell(v)}" for k, v in item.items())

    show(a, c.call("GET", "/hosts", query={"host": a.host}), render)


def host_jobs(c: AdminClient, a: Args) -> None:
    query = {"host": a.host, "state": "dead" if a.dead else "queued"}
    columns = ("id", "kind", "attempts", "next_attempt_at", "last_error")
    show(a, c.call("GET", "/queue/jobs", query=query), lambda d: table(d["items"], columns))


def retry_now(c: AdminClient, a: Args) -> None:
    body = {"host": a.host, **({"job_id": a.job} if a.job else {})}
    data = c.call("POST", "/queue/retry-now", body)
    show(a, data, lambda d: f"{a.host}: {d['count']} queued jobs due now")


def paused_list(c: AdminClient, a: Args) -> None:
    columns = ("host", "reason", "paused_at")
    show(a, c.call("GET", "/hosts/paused"), lambda d: table(d["items"], columns))


def pause_host(c: AdminClient, a: Args) -> None:
    data = c.call("POST", "/hosts/pause", {"host": a.host, "reason": a.reason})
    show(a, data, lambda d: f"{d['host']}: delivery paused")


def resume_host(c: AdminClient, a: Args) -> None:
    data = c.call("POST", "/hosts/resume", {"host": a.host})
    show(a, data, lambda d: f"{a.host}: delivery resumed, {d['count']} jobs waiting to go")


def reset_host(c: AdminClient, a: Args) -> None:
    data = c.call("POST", "/hosts/reset", {"host": a.host})
    show(a, data, lambda d: f"{d['host']}: available again")


def cache_show(c: AdminClient, a: Args) -> None:
    data = c.call("GET", "/cache", query={"urn": a.urn})
    columns = ("urn", "url", "state", "fetched_at", "expires_at", "error")
    show(a, data, lambda d: "\n".join(f"{k:11} {d[k]}" for k in columns))


def cache_purge(c: AdminClient, a: Args) -> None:
    if bool(a.urn) == bool(a.domain):
        raise CliError(EXIT_USAGE, "give exactly one of --urn and --domain")
    body = {"urn": a.urn} if a.urn else {"domain": a.domain}
    show(a, c.call("POST", "/cache/purge", body), lambda d: f"purged {d['count']} entries")


# --- the parser -----------------------------------------------------------------------------
