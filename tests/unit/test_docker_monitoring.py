"""docker/prometheus and docker/grafana: promtool accepts the scrape config and the alert rules,
each alert fires on the series that should raise it (promtool test rules), and every metric
the alerts and the dashboard ask for is one the gateway exports."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from federation.observability.setup import build_telemetry
from tests.support.prometheus import binary
from tests.support.records import queued_job

DOCKER = Path(__file__).resolve().parents[2] / "docker"
PROMETHEUS = DOCKER / "prometheus"
DASHBOARD = DOCKER / "grafana" / "federation-dashboard.json"
METRIC = re.compile(r"\b((?:activitypub|federation|http_server)_[a-z_]+)\b")
SUFFIXES = ("_bucket", "_count", "_sum")


def promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    done = subprocess.run(
        [binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_scrape_config(tmp_path: Path) -> None:
    # The token file is mounted by compose at run time; promtool wants it to exist.
    config = (PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8")
    token = tmp_path / "metrics-token"
    token.write_text("t", encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/metrics-token", str(token)), encoding="utf-8"
    )
    (tmp_path / "alerts.yml").write_bytes((PROMETHEUS / "alerts.yml").read_bytes())
    out = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert "is valid prometheus config file syntax" in out


def test_promtool_accepts_the_rules_and_each_alert_fires_when_it_should() -> None:
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def exported_names() -> set[str]:
    """Every sample and label name a gateway's /metrics can show, each instrument having
    recorded once."""
    telemetry = build_telemetry("t", metrics=True, environ={})
    m = telemetry.metrics
    for kind in ("deliver", "inbox", "event"):
        job = queued_job(kind, host="h.example")
        for state in ("done", "retry", "dead"):
            m.job_finished(job, state, 1.0, reason="refused", lag_s=2.0)
    m.fanout(2)
    m.signature_checked("rejected", "bad_signature", 1.0)
    m.key_lookup("hit")
    m.resolver_cache(hit=True)
    m.resolver_fetched("ok", 1.0)
    m.backend_call("POST", "ok", 1.0)
    m.http_request("/inbox", "POST", 202, 0.01)
    m.set_queue_depth({("deliver", "queued"): 1})
    m.set_unavailable_hosts(["down.example"])
    m.set_oldest_deliveries({"down.example": 0.0}, 60.0)
    text = telemetry.render().decode()
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    return {s.name for s in samples} | {label for s in samples for label in s.labels}


def test_alerts_and_dashboard_ask_only_for_metrics_the_gateway_exports() -> None:
    exported = exported_names()
    alerts = (PROMETHEUS / "alerts.yml").read_text(encoding="utf-8")
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs, "the dashboard has no queries"
    asked = {name for text in (alerts, *exprs) for name in METRIC.findall(text)}
    asked -= {"federation_instance"}  # the scrape config's label
    unknown = sorted(asked - exported)
    assert not unknown, f"not exported by the gateway: {unknown}"
    metrics = {n for n in asked if n.startswith(("activitypub_", "federation_", "http_server_"))}
    assert len(metrics) >= 15  # the dashboard covers the instruments, not a token few


def test_the_dashboard_is_importable_into_grafana() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys()
