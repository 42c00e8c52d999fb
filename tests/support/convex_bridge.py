"""A node whose backend is a Convex app (with the federation component installed), run inside
convex-test and served over real HTTP by tests/convex/bridge/run.mjs.

The Convex backend binary cannot be installed on the machines this project is tested on, so the
Convex functions run inside convex-test (Convex's official in-process mock of its backend). The
gateway talks to the bridge exactly as it would talk to a deployment's HTTP actions URL. Needs
`npm ci` first (scripts/test does it).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from federation.processes import wait_ready
from tests.support.cluster import Node, make_node

REPO = Path(__file__).resolve().parents[2]
NODE = REPO / "node_modules" / ".bin" / "node"  # Node 22, from the npm "node" package


def start_convex_bridge(node: Node, app: str = "convex") -> None:
    """Runs `node`'s backend as the Convex app in the directory `app` behind the bridge."""
    if not NODE.exists():
        raise RuntimeError(f"{NODE} is missing: run `npm ci` at the repository root")
    env = {
        **os.environ,
        "BRIDGE_PORT": str(node.backend_port),
        "BRIDGE_APP": app,
        # The Convex environment variables a deployment would have (README "Running on Convex").
        "BACKEND_TOKEN": node.backend_token,
        "GATEWAY_URL": node.url,
        "INSTANCE_DOMAIN": node.domain,
        "INSTANCE_NAME": node.name,
        "CONVEX_SITE_URL": node.backend_url,
    }
    log = open(node.root / "backend.log", "ab")  # the child process writes it until it ends
    node.backend = subprocess.Popen(
        [str(NODE), str(REPO / "tests" / "convex" / "bridge" / "run.mjs")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    wait_ready(f"{node.backend_url}/healthz", node.backend, 60, log=node.root / "backend.log")


@contextmanager
def with_reference(root: Path, name: str, app: str = "convex") -> Iterator[tuple[Node, Node]]:
    """Two running instances until the block ends: `name`, whose backend is the Convex `app`
    behind the bridge, and "reference", with the reference backend."""
    convex, reference = make_node(root, name), make_node(root, "reference")
    try:
        start_convex_bridge(convex, app)
        reference.start_backend()
        convex.start_gateway()
        reference.start_gateway()
        yield convex, reference
    finally:
        convex.stop()
        reference.stop()
