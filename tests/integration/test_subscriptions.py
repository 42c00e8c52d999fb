"""Blocklist subscriptions against a real HTTP list server on 127.0.0.1 and a real gateway:
adds, a retraction, a 304, a 500 (nothing changes), a list that shrank too much or has an
invalid line (held back), a hand-made block never removed, two subscriptions holding one
domain, the allowlist's precedence, and the schedule's one claim per due fetch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from federation.admin.api import ADMIN
from federation.admin.subscription_schedule import subscription_schedule
from tests.integration.test_follow_endings import admin
from tests.support.cluster import until
from tests.support.inproc import Running, running, settings_for
from tests.support.servers import serve_url

pytestmark = pytest.mark.integration

HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"


@dataclass
class ListServer:
    """Serves each path's current list with an ETag; answers 304 to a matching
    If-None-Match, or `status` when set."""

    lists: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (etag, text)
    status: int | None = None
    conditional: list[str | None] = field(default_factory=list)  # If-None-Match seen

    async def handle(self, request: web.Request) -> web.Response:
        self.conditional.append(request.headers.get("If-None-Match"))
        if self.status is not None:
            return web.Response(status=self.status, text="list server down")
        etag, text = self.lists[request.path]
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=text, content_type="text/csv", headers={"ETag": etag})


def csv(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Running, ListServer, str]]:
    server = ListServer()
    app = web.Application()
    app.router.add_get("/{name}", server.handle)
    async with serve_url(app) as base, running(settings_for(tmp_path, "alpha")) as alpha:
        yield alpha, server, base


async def policy(node: Running) -> dict[str, str]:
    _, blocks = await admin(node, "GET", "/blocks")
    return {b["domain"]: b["severity"] for b in blocks["items"]}


async def refresh(node: Running, ident: str) -> dict[str, Any]:
    status, fetch = await admin(node, "POST", f"/subscriptions/{ident}/refresh")
    assert status == 200, fetch
    return dict(fetch)


async def subscribe(node: Running, url: str, **extra: Any) -> str:
    status, made = await admin(node, "POST", "/subscriptions", {"url": url, **extra})
    assert status == 201, made
    return str(made["id"])


async def test_a_subscription_follows_its_list(
    world: tuple[Running, ListServer, str],
) -> None:
    alpha, server, base = world
    await admin(alpha, "POST", "/blocks", {"domain": "hand.example", "reason": "mine"})
    server.lists["/a.csv"] = (
        '"v1"',
        csv("a.example,suspend", "b.example,silence", "c.example,", "hand.example,suspend"),
    )
    a = await subscribe(alpha, f"{base}/a.csv", title="list A")

    first = await refresh(alpha, a)
    assert (first["status"], first["listed"], first["added"], first["removed"]) == (
        "applied",
        4,
        3,
        0,
    )
    expected = {
        "a.example": "suspend",
        "b.example": "silence",
        "c.example": "suspend",
        "hand.example": "suspend",
    }
    assert await policy(alpha) == expected

    # Unchanged on the server: a conditional GET, a 304, nothing applied.
    assert (await refresh(alpha, a))["status"] == "not modified"
    assert server.conditional[-1] == '"v1"'

    # The list drops c.example and hand.example: the first is retracted, the admin's stays.
    server.lists["/a.csv"] = ('"v2"', csv("a.example", "b.example,silence", "d.example"))
    second = await refresh(alpha, a)
    assert (second["status"], second["added"], second["removed"]) == ("applied", 1, 1)
    assert await policy(alpha) == {
        "a.example": "suspend",
        "b.example": "silence",
        "d.example": "suspend",
        "hand.example": "suspend",
    }
    before = await policy(alpha)

    server.status = 500  # the list server fails: nothing changes
    failed = await refresh(alpha, a)
    assert failed["status"] == "failed" and "500" in failed["error"]
    server.status = None
    assert await policy(alpha) == before

    server.lists["/a.csv"] = ('"v3"', csv("a.example"))  # 3 entries down to 1: over 50 %
    held = await refresh(alpha, a)
    assert held["status"] == "held back" and "shrank from 3 to 1" in held["error"]
    server.lists["/a.csv"] = ('"v4"', csv("a.example", "b.example", "d.example", "bad host!"))
    held = await refresh(alpha, a)
    assert held["status"] == "held back" and "1 invalid lines (line 5" in held["error"]
    assert await policy(alpha) == before

    _, shown = await admin(alpha, "GET", f"/subscriptions/{a}")
    statuses = [f["status"] for f in shown["history"]]
    assert statuses == ["applied", "not modified", "applied", "failed", "held back", "held back"]
    assert shown["listed"] == 3 and shown["last"]["status"] == "held back"


async def test_two_lists_one_domain_and_the_allowlist(
    world: tuple[Running, ListServer, str],
) -> None:
    alpha, server, base = world
    await admin(alpha, "PUT", "/allowlist", {"domains": ["friends.example"]})
    server.lists["/a.csv"] = ('"a"', csv("both.example,silence", "only-a.example"))
    server.lists["/b.csv"] = ('"b"', csv("both.example,suspend", "friends.example"))
    a = await subscribe(alpha, f"{base}/a.csv")
    b = await subscribe(alpha, f"{base}/b.csv", max_shrink=0.9)
    assert await subscribe(alpha, f"{base}/a.csv") == a  # subscribing again: the same one

    # The schedule: each due list fetched once, then nothing is due.
    assert await alpha.app[ADMIN].subscriptions.refresh_due() == 2
    assert await alpha.app[ADMIN].subscriptions.refresh_due() == 0
    # friends.example is on the allowlist: a shared list never blocks it.
    assert await policy(alpha) == {"both.example": "suspend", "only-a.example": "suspend"}

    status, gone = await admin(alpha, "DELETE", f"/subscriptions/{a}")
    assert status == 200 and gone == {"removed": ["only-a.example"]}
    assert await policy(alpha) == {"both.example": "suspend"}  # b still holds it
    _, gone = await admin(alpha, "DELETE", f"/subscriptions/{b}")
    assert gone == {"removed": ["both.example"]}
    assert await policy(alpha) == {}
    status, _ = await admin(alpha, "DELETE", f"/subscriptions/{b}")
    assert status == 404


async def test_a_list_over_the_body_cap_changes_nothing(
    world: tuple[Running, ListServer, str],
) -> None:
    alpha, server, base = world
    cap = alpha.settings.limits.max_body_bytes
    rows = [f"host{i}.example,suspend" for i in range(cap // 20)]
    server.lists["/big.csv"] = ('"big"', csv(*rows))
    big = await subscribe(alpha, f"{base}/big.csv")
    failed = await refresh(alpha, big)
    assert failed["status"] == "failed" and "too_large" in failed["error"]
    assert await policy(alpha) == {}


async def test_the_schedule_fetches_a_new_subscription(
    world: tuple[Running, ListServer, str],
) -> None:
    alpha, server, base = world
    server.lists["/s.csv"] = ('"s"', csv("scheduled.example"))
    await subscribe(alpha, f"{base}/s.csv")
    schedule = subscription_schedule(alpha.app[ADMIN].subscriptions, tick=0.05)
    schedule.start()
    try:
        await until(lambda: _applied(alpha))
    finally:
        await schedule.stop()
    assert await policy(alpha) == {"scheduled.example": "suspend"}
    [made] = (await admin(alpha, "GET", "/subscriptions"))[1]["items"]
    assert made["next_fetch_at"] > made["last"]["at"]  # the next one is hours away


async def _applied(node: Running) -> bool:
    _, subs = await admin(node, "GET", "/subscriptions")
    return any(s["last"] and s["last"]["status"] == "applied" for s in subs["items"])
