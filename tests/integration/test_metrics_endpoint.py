"""GET /metrics on real gateways: the bearer guard, the Prometheus text, what refused inbox
requests count, bounded labels, per-gateway counters, and the separate worker listener."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from federation.activities import AS_MEDIA_TYPE
from federation.app import create_app
from federation.records import NewJob
from federation.web.appkeys import STORE
from tests.support.cluster import free_port
from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, SignedPost, post, serve_peer

pytestmark = pytest.mark.integration

TOKEN = "metrics-secret"
PROBLEM = "application/problem+json"
FAILURES = "activitypub_signature_verification_failure"


async def scrape(session: aiohttp.ClientSession, url: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, labels): value} from GET /metrics."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(f"{url}/metrics", headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def failures(samples: dict[tuple[str, frozenset], float], reason: str) -> float:
    wanted = (FAILURES + "_total", frozenset({("activitypub_signature_failure_reason", reason)}))
    return samples.get(wanted, 0.0)


@pytest.fixture
async def gateways(tmp_path: Path) -> AsyncIterator[tuple[Running, Running, Peer]]:
    async with (
        running(settings_for(tmp_path, "one", metrics_token=TOKEN)) as one,
        running(settings_for(tmp_path, "two", metrics_token=TOKEN)) as two,
        serve_peer(rsa_index=0) as peer,
    ):
        yield one, two, peer


async def test_metrics_are_off_without_a_token_and_guarded_with_one(
    tmp_path: Path, gateways: tuple[Running, Running, Peer]
) -> None:
    one, _, _ = gateways
    async with running(settings_for(tmp_path, "off")) as off, aiohttp.ClientSession() as http:
        async with http.get(f"{off.url}/metrics") as resp:
            assert (resp.status, resp.content_type) == (404, PROBLEM)
        for auth in ({}, {"Authorization": "Bearer wrong"}):
            async with http.get(f"{one.url}/metrics", headers=auth) as resp:
                assert (resp.status, resp.content_type) == (401, PROBLEM)
                assert "metrics" in (await resp.json())["detail"]
        samples = await scrape(http, one.url)
    assert ("federation_queue_depth", frozenset()) not in samples  # gauges carry kind/state
    assert any(name == "target_info" for name, _ in samples)


async def test_an_unsigned_post_and_a_bad_digest_count_with_their_reasons(
    gateways: tuple[Running, Running, Peer],
) -> None:
    one, two, peer = gateways
    async with aiohttp.ClientSession() as http:
        unsigned = SignedPost(
            f"{one.url}/inbox",
            {"Content-Type": AS_MEDIA_TYPE},
            json.dumps(peer.create()).encode(),
        )
        assert (await post(http, unsigned))[0] == 401
        samples = await scrape(http, one.url)
        assert failures(samples, "no_signature") == 1
        assert failures(samples, "digest_mismatch") == 0

        activity = peer.create()
        tampered = peer.signed_post(f"{one.url}/inbox", activity)
        activity["object"]["content"] = "changed after signing"
        tampered.body = json.dumps(activity).encode()
        assert (await post(http, tampered))[0] == 401
        samples = await scrape(http, one.url)
        assert failures(samples, "digest_mismatch") == 1
        assert failures(samples, "no_signature") == 1
        # The other gateway in this process counted nothing: no shared MeterProvider.
        assert failures(await scrape(http, two.url), "no_signature") == 0


async def test_requests_are_labelled_by_route_template_never_by_raw_path(
    gateways: tuple[Running, Running, Peer],
) -> None:
    one, _, _ = gateways
    async with aiohttp.ClientSession() as http:
        for block in ("b-secret-1", "b-secret-2"):
            async with http.get(f"{one.url}/blocks/{block}") as resp:
                assert resp.status == 404
        async with http.request("PROPFIND", f"{one.url}/no/such/path") as resp:
            assert resp.status in (404, 405)
        async with http.get(f"{one.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}):
            pass
        samples = await scrape(http, one.url)
    count = "http_server_request_duration_seconds_count"
    routes = {dict(labels)["http_route"]: dict(labels) for name, labels in samples if name == count}
    assert "/blocks/{id}" in routes and "unmatched" in routes
    assert routes["unmatched"]["http_request_method"] == "other"
    text = repr(samples)
    assert "b-secret-1" not in text and "/no/such/path" not in text


async def test_a_worker_process_serves_metrics_on_its_own_port(tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(tmp_path, "worker", metrics_token=TOKEN, metrics_listen_port=port)
    app = create_app(settings, role="worker")
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()  # a worker binds no gateway port: only the metrics listener
    # A kind no handler claims stays queued: the depth gauge must show it.
    await app[STORE].enqueue([NewJob(kind="parked", dedupe_key="parked:1", payload={})], 0.0)
    try:
        async with aiohttp.ClientSession() as http:
            samples = await scrape(http, f"http://127.0.0.1:{port}")
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert (resp.status, resp.content_type) == (401, PROBLEM)
    finally:
        await runner.cleanup()
    depth = frozenset({("job_kind", "parked"), ("job_state", "queued")})
    assert samples[("federation_queue_depth", depth)] == 1
