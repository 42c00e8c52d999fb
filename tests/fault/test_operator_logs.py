"""What an operator reads in a gateway's log: one JSON line per delivery outcome, and, over a
whole federation flow, never a token, a private key or a signature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory
from tests.support.cluster import HttpFailure, Node, eventually, http_json
from tests.support.receivers import OK, seed_follows, status

pytestmark = pytest.mark.fault


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a json-format log, parsed: a line that is not JSON fails the test."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def outcome_lines(node: Node) -> dict[str, dict[str, Any]]:
    """host -> the latest delivery.* line for it."""
    found: dict[str, dict[str, Any]] = {}
    for line in json_lines(node.root / "gateway.log"):
        if str(line["event"]).startswith("delivery."):
            found[line["host"]] = line
    return found


def test_each_delivery_outcome_is_one_json_line(
    node_factory: NodeFactory, peer_factory: PeerFactory
) -> None:
    ok, flaky, refusing = peer_factory(), peer_factory(), peer_factory()
    flaky.behave(status(500), OK)
    refusing.behave(status(400))
    alpha = node_factory("alpha", log_format="json")
    seed_follows(alpha.root / "gateway.sqlite3", [ok, flaky, refusing], Direction.FOLLOWER)
    alpha.start()
    alpha.create_block(title="logged")

    def settled() -> list[dict[str, Any]]:
        lines = [
            line
            for line in json_lines(alpha.root / "gateway.log")
            if str(line["event"]).startswith("delivery.")
        ]
        hosts_done = {(line["event"], line["host"]) for line in lines}
        wanted = {
            ("delivery.delivered", ok.host),
            ("delivery.retry", flaky.host),
            ("delivery.delivered", flaky.host),
            ("delivery.gave_up", refusing.host),
        }
        return lines if wanted <= hosts_done else []

    lines = eventually(settled, timeout=20)
    by = {(line["event"], line["host"]): line for line in lines}
    for line in lines:
        assert line["instance"] == "alpha"
        assert line["role"] == "gateway"
        assert line["activity_id"].startswith(alpha.url)
        assert line["job_id"]
        assert line["kind"] == "deliver"
    retry = by[("delivery.retry", flaky.host)]
    assert retry["reason"] == "HTTP 500"
    assert retry["next_attempt"].endswith("Z")
    assert retry["attempt"] == 1
    assert retry["level"] == "warning"
    gave_up = by[("delivery.gave_up", refusing.host)]
    assert gave_up["reason"] == "HTTP 400"
    assert gave_up["level"] == "error"
    assert by[("delivery.delivered", flaky.host)]["attempt"] == 2
    # One line per outcome: each (event, host) pair happened once.
    assert len(lines) == len(by) == 4


def secrets_of(node: Node) -> list[str]:
    keys = [p.read_text() for p in (node.root / "keys").iterdir() if p.is_file()]
    key_bodies = [
        line for pem in keys for line in pem.splitlines() if line and not line.startswith("---")
    ]
    return [node.admin_token, node.backend_token, *key_bodies]


def test_a_whole_flow_logs_no_token_key_or_signature(node_factory: NodeFactory) -> None:
    alpha = node_factory("alpha", log_format="json")
    beta = node_factory("beta", mode="approval")  # text format
    for node in (alpha, beta):
        node.start()

    alpha.admin_call("POST", "/following", {"target": beta.domain})
    eventually(lambda: beta.admin_call("GET", "/followers")["items"])
    beta.admin_call("POST", "/followers/approve", {"actor": alpha.actor})
    beta.admin_call("POST", "/following", {"target": alpha.domain})
    block = beta.create_block(title="flow")
    eventually(lambda: any(b["title"] == "flow" for b in alpha.remote_blocks()))
    alpha.create_block(title="back")
    eventually(lambda: any(b["title"] == "back" for b in beta.remote_blocks()))
    beta.backend_call("DELETE", f"/api/v1/blocks/{block['id']}")
    # Refusals and a wrong token: their lines must not echo what was sent.
    wrong = "wrong-token-0123456789"
    with pytest.raises(HttpFailure):
        http_json("GET", f"{alpha.url}/admin/api/queue", token=wrong)
    forged = 'keyId="x",headers="(request-target)",signature="Zm9yZ2VkLXNpZ25hdHVyZQ=="'
    with pytest.raises(HttpFailure):
        http_json(
            "POST",
            f"{alpha.url}/inbox",
            {"type": "Create", "actor": f"{beta.url}/actor"},
            headers={"Signature": forged, "Content-Type": "application/activity+json"},
        )
    eventually(lambda: not any(b["title"] == "flow" for b in alpha.remote_blocks()))

    logs = {
        path: path.read_text()
        for node in (alpha, beta)
        for path in (node.root / "gateway.log", node.root / "backend.log")
    }
    assert "delivery.delivered" in logs[alpha.root / "gateway.log"]
    assert "admin.action" in logs[beta.root / "gateway.log"]
    assert "follow.state_changed" in logs[alpha.root / "gateway.log"]
    assert "inbound.refused" in logs[alpha.root / "gateway.log"]
    secrets = [*secrets_of(alpha), *secrets_of(beta), wrong, "Zm9yZ2VkLXNpZ25hdHVyZQ=="]
    for path, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"{path} holds a secret"
        assert "PRIVATE KEY" not in text
        assert "Bearer " not in text
