"""The store's disk fills up: inbox requests get a 503 problem (nothing is accepted, so nothing
is lost), and the gateway recovers by itself once space returns.

The store lives on a real size-limited filesystem (a tmpfs mounted for the test), filled with
a real file: SQLite sees a genuine ENOSPC. Mounting needs root (CAP_SYS_ADMIN); without it the
test is skipped, saying why. (File permissions cannot stand in: root ignores them.)
"""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from federation.records import Direction
from tests.fault.conftest import NodeFactory, PeerFactory, queue_totals
from tests.support.cluster import eventually
from tests.support.receivers import seed_follows

pytestmark = pytest.mark.fault


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs (needs root): {proc.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
    for size in (4096, 512, 1):  # the last partial pages too
        with open(filler, "ab", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def test_full_disk_answers_503_and_recovers_without_restart(
    node_factory: NodeFactory,
    peer_factory: PeerFactory,
    small_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    peer = peer_factory()
    beta = node_factory("beta")
    store = small_disk / "gateway.sqlite3"
    seed_follows(store, [peer], Direction.FOLLOWING)
    monkeypatch.setenv("FEDERATION_STORE", str(store))
    beta.start()
    assert beta.gateway is not None
    pid = beta.gateway.pid
    inbox = beta.url + "/inbox"

    code, body = peer.post_signed(inbox, peer.create_activity(0))  # caches the peer's key
    assert code == 202, body
    eventually(lambda: len(beta.remote_blocks()) == 1)

    filler = fill(small_disk)
    refused = [peer.create_activity(n) for n in range(1, 11)]
    for activity in refused:
        code, body = peer.post_signed(inbox, activity)
        assert code == 503, body
        assert body["title"] == "Store unavailable" and body["status"] == 503, body
    assert len(beta.remote_blocks()) == 1

    filler.unlink()  # space returns; the same process carries on
    for activity in refused:
        code, body = peer.post_signed(inbox, activity)
        assert code == 202, body  # not 409: none of them had been recorded
    expected = {a["object"]["urn"] for a in [peer.create_activity(0), *refused]}
    eventually(lambda: {b["urn"] for b in beta.remote_blocks()} == expected, timeout=30)
    eventually(lambda: queue_totals(beta)["queued"] == 0)
    assert queue_totals(beta)["dead"] == 0
    assert beta.gateway is not None and beta.gateway.pid == pid and beta.gateway.poll() is None
