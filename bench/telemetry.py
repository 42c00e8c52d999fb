"""The cost of metrics and tracing on the inbox's accept path: three web-role gateways in the
same run, one with telemetry off (the default), one with metrics on (metrics_token set, scraped
every 5 s), one with traces on as well (every request traced, exported over OTLP/HTTP to a local
sink) and one tracing a tenth of new traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio),
measured in rotating windows on the same core. Goal: the accept path keeps >= 0.95 of its rate.

Two figures: the rate ratio (on / off), and the CPU ratio (the gateway's CPU seconds per
accepted request, off / on, export thread and scrapes included). On a machine shared with other
work the gateway gets only part of its core and the rates move with the neighbours' load; the
CPU each request costs does not, so the CPU ratio is the steadier measure of the same thing.

Run: python -m bench inbox (after the inbox rows) [--rounds N] [--peer-key rsa|ed25519]
"""

from __future__ import annotations

import functools
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import Results, cpu_seconds, fmt_num, fmt_ratio, ratios, spread
from bench.inbox import InboxOptions, start_inbox_node
from bench.node import BenchNode
from bench.peer import Peer, make_peer, signed_creates

GOAL = 0.95
TOKEN = "bench-metrics"  # noqa: S105 - a local throwaway gateway's token
SCRAPE_EVERY = 5.0  # seconds; Prometheus's default is 15 s
CONFIGS = {
    "metrics": "metrics",
    "on": "metrics + tracing",
    "sampled": "metrics + tracing sampled 1/10",
}


class _Sink(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports and drops them."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def scraping(node: BenchNode) -> Iterator[list[int]]:
    """GET /metrics every SCRAPE_EVERY seconds, as Prometheus would; yields the sizes read."""
    stop = threading.Event()
    sizes: list[int] = []

    def loop() -> None:
        request = urllib.request.Request(  # noqa: S310 - the loopback gateway's URL
            f"{node.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        while not stop.wait(SCRAPE_EVERY):
            with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310 - loopback
                sizes.append(len(resp.read()))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sizes
    finally:
        stop.set()
        thread.join()


def run(opts: InboxOptions, results: Results) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp,
        loadgen.generator() as gen,
        otlp_sink() as sink,
    ):
        root, peer = Path(tmp), make_peer(opts.peer_key)
        traced = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink}
        sampled = {**traced, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}
        sampled["OTEL_TRACES_SAMPLER_ARG"] = "0.1"
        with (
            start_inbox_node(root / "off", peer, "web") as off,
            start_inbox_node(root / "m", peer, "web", metrics_token=TOKEN) as metrics,
            start_inbox_node(root / "t", peer, "web", env=traced, metrics_token=TOKEN) as on,
            start_inbox_node(root / "s", peer, "web", env=sampled, metrics_token=TOKEN) as tenth,
            scraping(metrics),
            scraping(on) as scrapes,
            scraping(tenth),
        ):
            nodes = {"off": off, "metrics": metrics, "on": on, "sampled": tenth}
            rates, cpu = _alternate(gen, peer, nodes, opts)
    row: dict[str, Any] = {"role": "web", "peer_key": opts.peer_key, "scrapes": len(scrapes)}
    for name, what in CONFIGS.items():
        rate, cost = ratios(rates[name], rates["off"]), ratios(cpu["off"], cpu[name])
        row[name] = {
            "per_s": spread(rates[name]).as_dict(),
            "rate_ratio": rate.as_dict(),
            "cpu_ms_per_request": spread(cpu[name]).as_dict(),
            "cpu_ratio": cost.as_dict(),
        }
        detail = (
            f"{fmt_num(spread(rates[name]).median)}/s vs {fmt_num(spread(rates['off']).median)}/s"
            f" off; CPU/request {spread(cpu[name]).median:.2f} vs {spread(cpu['off']).median:.2f}"
            f" ms (ratio {fmt_ratio(cost)})"
        )
        label = f"accept path with {what} on / off (goal >= {GOAL})"
        results.line("inbox", label, fmt_ratio(rate), detail)
        print(
            f"inbox telemetry, {what} on / off ({opts.peer_key} peer): rate ratio "
            f"{rate.median:.3f} ({rate.low:.3f}-{rate.high:.3f}); {detail}"
        )
    row["off"] = {
        "per_s": spread(rates["off"]).as_dict(),
        "cpu_ms_per_request": spread(cpu["off"]).as_dict(),
    }
    results.add("inbox-telemetry", row)
    return row


def _alternate(
    gen: ProcessPoolExecutor, peer: Peer, nodes: dict[str, BenchNode], opts: InboxOptions
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Rounds of one window per node, the order rotated every round (no drift favours one):
    ({node: rates}, {node: gateway CPU ms per request})."""
    for name, node in nodes.items():
        build = functools.partial(signed_creates, peer, node.domain)
        gen.submit(loadgen.prepare, name, build, 300).result()
        gen.submit(loadgen.closed, name, "127.0.0.1", node.port, 1.0, opts.concurrency).result()
    rates: dict[str, list[float]] = {name: [] for name in nodes}
    cpu: dict[str, list[float]] = {name: [] for name in nodes}
    expected = 0.0
    for i in range(opts.rounds):
        names = list(nodes)
        order = names[i % len(names) :] + names[: i % len(names)]
        for name in order:
            node = nodes[name]
            need = int((expected or 2000) * opts.seconds * 1.3) + opts.concurrency
            have = gen.submit(loadgen.remaining, name).result()
            if need > have:
                build = functools.partial(signed_creates, peer, node.domain)
                gen.submit(loadgen.prepare, name, build, need - have).result()
            cpu0 = cpu_seconds(node.gateway_pid)
            got = gen.submit(
                loadgen.closed, name, "127.0.0.1", node.port, opts.seconds, opts.concurrency
            ).result()
            rates[name].append(got.rate)
            cpu[name].append((cpu_seconds(node.gateway_pid) - cpu0) * 1000 / max(got.count, 1))
            expected = max(expected, got.rate)
    return rates, cpu
