"""A refused inbox request is logged once, with its status, reason and remote host; a flood of
them is rate-limited, and what was dropped is reported as a count."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import aiohttp
import pytest

from tests.support.inproc import running, settings_for

pytestmark = pytest.mark.integration

ACTIVITY = {
    "@context": "https://www.w3.org/ns/activitystreams",
    "id": "http://peer.example/activities/1",
    "type": "Create",
    "actor": "http://peer.example/actor",
    "object": {"id": "http://peer.example/blocks/1", "type": "Note"},
}


HEADERS = {"Content-Type": "application/activity+json"}


class FrozenClock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def refusals(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


async def post_unsigned(session: aiohttp.ClientSession, url: str, times: int) -> set[int]:
    statuses = set()
    body = json.dumps(ACTIVITY).encode()
    for _ in range(times):
        async with session.post(url, data=body, headers=HEADERS) as resp:
            statuses.add(resp.status)
    return statuses


async def test_one_refusal_is_one_line_and_a_flood_is_summarised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = FrozenClock()
    # Past its burst an address's unsigned requests are answered 429 before the pipeline
    # (web/backpressure.py); this flood is about the log, so the burst holds all of it.
    settings = settings_for(tmp_path, "gw", limits={"inbox_burst": 2000})
    async with (
        running(settings, clock=clock) as node,
        aiohttp.ClientSession() as s,
    ):
        inbox = f"{node.url}/inbox"
        assert await post_unsigned(s, inbox, 1) == {401}
        [line] = refusals(caplog, "inbound.refused")
        assert line.fields["status"] == 401
        assert line.fields["reason"] == "Signature rejected"
        assert line.fields["remote_host"] == "peer.example"
        assert line.fields["remote_addr"] == "127.0.0.1"

        # A thousand more within the same (frozen) second: the bucket's burst, then silence.
        assert await post_unsigned(s, inbox, 1000) == {401}
        logged = len(refusals(caplog, "inbound.refused"))
        assert logged < 20
        assert refusals(caplog, "inbound.refused.suppressed") == []

        # The next second lets one line through, preceded by the count of what was dropped.
        clock.now += 1.0
        assert await post_unsigned(s, inbox, 1) == {401}
        [summary] = refusals(caplog, "inbound.refused.suppressed")
        assert summary.fields["reason"] == "Signature rejected"
        assert summary.fields["count"] == 1001 - logged
        assert len(refusals(caplog, "inbound.refused")) == logged + 1
