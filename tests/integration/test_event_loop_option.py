"""`event_loop = "uvloop"`: a real `federation serve` process runs on uvloop and serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cluster import http_json, make_node

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("role", ["all", "web"])
def test_a_gateway_on_uvloop_serves(tmp_path: Path, role: str) -> None:
    node = make_node(tmp_path, "uv", event_loop="uvloop")
    try:
        node.start_backend()
        node.start_gateway(role)
        assert http_json("GET", f"{node.url}/healthz")["status"] == "ok"
        actor = http_json("GET", node.actor, headers={"Accept": "application/activity+json"})
        assert actor["id"] == node.actor
        blocks = http_json("GET", f"{node.url}/admin/api/blocks", token=node.admin_token)
        assert blocks == {"items": []}
    finally:
        node.stop()
