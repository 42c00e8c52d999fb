"""Two real instances administered only through `federation admin ...` (a subprocess each time):
follow with approval, a block, and the way back."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from federation.urn import BlockUrn
from tests.support.cli import admin
from tests.support.cluster import Node, eventually, make_node, started

pytestmark = pytest.mark.integration


def states(node: Node, group: str) -> dict[str, str]:
    data = admin(node, group, "list", "--json")
    return {f["actor"]: f["state"] for f in data["items"]}


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    alpha = make_node(tmp_path, "alpha", mode="approval")
    beta = make_node(tmp_path, "beta", mode="open")
    with started(alpha, beta):
        yield alpha, beta


def follow_with_approval(alpha: Node, beta: Node) -> None:
    """beta follows alpha; alpha (mode approval) approves it through the CLI."""
    beta_view = admin(beta, "following", "add", alpha.domain, "--json")
    assert beta_view == {**beta_view, "actor": alpha.actor, "state": "pending"}
    eventually(lambda: states(alpha, "followers").get(beta.actor) == "pending")
    pending = admin(alpha, "followers", "list", "--state", "pending", "--json")
    assert [f["actor"] for f in pending["items"]] == [beta.actor]
    assert states(beta, "following")[alpha.actor] == "pending"

    proc = admin(alpha, "followers", "approve", beta.actor, "--wait", "--wait-timeout", "60")
    assert f"{beta.actor}: accepted" in proc.stdout
    assert "backfill to" in proc.stderr  # the progress display
    eventually(lambda: states(beta, "following").get(alpha.actor) == "accepted")


def test_follow_block_and_unblock_through_the_cli(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    follow_with_approval(alpha, beta)
    made = alpha.create_block(title="from alpha")
    eventually(lambda: any(b["title"] == "from alpha" for b in beta.remote_blocks()))

    # alpha follows beta too (beta is open), so that beta has something to deliver to alpha.
    admin(alpha, "following", "add", beta.actor)
    eventually(lambda: states(alpha, "following").get(beta.actor) == "accepted")
    early = beta.create_block(title="before the block")
    eventually(lambda: any(b["title"] == "before the block" for b in alpha.remote_blocks()))

    result = admin(alpha, "blocks", "add", beta.domain, "--reason", "spam", "--json")
    assert result["block"] == {**result["block"], "domain": beta.domain, "reason": "spam"}
    assert result["follows_dropped"] == 2  # beta following alpha, alpha following beta
    assert states(alpha, "followers") == {} and states(alpha, "following") == {}
    listed = admin(alpha, "blocks", "list", "--json")["items"]
    assert [b["domain"] for b in listed] == [beta.domain]

    # beta still thinks alpha follows it: its delivery is refused by alpha's inbox (403).
    beta.create_block(title="after the block")
    dead = eventually(
        lambda: admin(beta, "queue", "dead", "--host", alpha.domain, "--json")["items"], 60
    )
    assert "403" in (dead[0]["last_error"] or ""), dead
    assert not any(b["title"] == "after the block" for b in alpha.remote_blocks())
    # and alpha no longer fetches from beta, not even what it had cached.
    urn = str(BlockUrn(beta.domain, early["id"]))
    refused = alpha.backend_call("GET", f"/api/v1/resolve?urn={urn}")
    assert refused["status"] != "ok" and "blocked" in str(refused["error"]), refused
    # following a blocked domain is refused up front
    proc = admin(alpha, "following", "add", beta.domain, expect=1)
    assert "422 Cannot follow target" in proc.stderr

    admin(alpha, "blocks", "remove", beta.domain)
    assert admin(alpha, "blocks", "list", "--json")["items"] == []
    # beta's follow was dropped on alpha only: beta undoes its stale follow and follows again.
    admin(beta, "following", "remove", alpha.actor)
    follow_with_approval(alpha, beta)
    assert made["id"]


def test_exit_codes(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    assert admin(alpha, "mode", "--json") == {"mode": "approval"}
    proc = admin(alpha, "followers", "approve", "http://nobody.invalid/actor", expect=1)
    assert "404 Not found" in proc.stderr
    proc = admin(alpha, "following", "add", f"acct:nobdy@{beta.domain}", expect=1)
    assert f"422 Cannot follow target: no such account at {beta.domain}" in proc.stderr
    proc = admin(alpha, "following", "add", alpha.domain, expect=1)
    reason = f"{alpha.domain} is this instance; an instance cannot follow itself"
    assert f"422 Cannot follow target: {reason}" in proc.stderr
    admin(alpha, "mode", "bogus", expect=2)  # usage
    env = {
        **os.environ,
        "FEDERATION_ADMIN_URL": "http://127.0.0.1:9",
        "FEDERATION_ADMIN_TOKEN": "x",
    }
    cmd = [sys.executable, "-m", "federation.cli", "admin", "blocks", "list"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 3, proc.stderr  # unreachable
    env["FEDERATION_ADMIN_URL"] = alpha.url
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "401 Unauthorized" in proc.stderr
    env["FEDERATION_ADMIN_TOKEN"] = alpha.admin_token
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "(none)"
