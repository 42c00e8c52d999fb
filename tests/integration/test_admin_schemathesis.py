"""Property-based testing of the admin API: schemathesis generates requests from the served
OpenAPI document and sends them to a real gateway process; no answer may be a 5xx, and every
answer must match the document."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.support.cluster import Node, http_json, make_node, started

pytestmark = pytest.mark.integration

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Node]:
    node = make_node(tmp_path, "alpha", mode="approval")
    with started(node):
        yield node


def test_openapi_document_is_valid_and_the_api_survives_fuzzing(
    gateway: Node, tmp_path: Path
) -> None:
    doc = http_json("GET", f"{gateway.url}/admin/api/openapi.json")
    validate(doc)
    operations = sum(len(ops) for ops in doc["paths"].values())
    started = time.monotonic()
    proc = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{gateway.url}/admin/api/openapi.json",
            "--url",
            gateway.url,
            "--header",
            f"Authorization: Bearer {gateway.admin_token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "12",
            "--phases",
            "examples,coverage,fuzzing",
            "--request-timeout",
            "10",
            "--seed",
            "1",
            "--no-color",
            # Following random targets would send lookups to arbitrary hosts on the internet.
            "--exclude-operation-id",
            "post_following",
            "--report-dir",
            str(tmp_path / "schemathesis-report"),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
    )
    took = time.monotonic() - started
    log = (gateway.root / "gateway.log").read_text()
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n--- gateway log ---\n{log[-4000:]}"
    assert "Internal error" not in log
    assert f"Tested: {operations - 1}" in proc.stdout  # all but the excluded one
    assert took < 150, f"schemathesis took {took:.0f} s"
