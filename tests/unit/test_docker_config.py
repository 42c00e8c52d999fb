"""docker/: the compose file is valid compose-spec, the Dockerfile is hadolint clean, and every
URL a container would publish (actor ids, block pages, the backend's and gateway's addresses)
is https or a name on the compose network, never the 0.0.0.0 the processes listen on. The
instance files are loaded by the gateway's own settings loader, with each service's
environment from compose.yaml (its defaults), exactly as the container loads them.
Docker itself cannot run here: this checks the configuration, not a running stack."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from federation.config import Settings, load_settings

DOCKER = Path(__file__).resolve().parents[2] / "docker"
BIN = Path(sys.executable).parent
MOUNT = "/etc/federation/instance.toml"
WILDCARDS = {"0.0.0.0", "::", ""}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def with_defaults(value: str) -> str:
    """Compose interpolation as on a machine where none of the variables is set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def instance_services() -> list[tuple[str, dict[str, Any], Path]]:
    found = []
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source, _, target = volume.partition(":")
            if target.startswith(MOUNT):
                found.append((name, service, DOCKER / source))
    return found


def loaded(service: dict[str, Any], path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in (service.get("environment") or {}).items():
        monkeypatch.setenv(key, with_defaults(str(value)))
    return load_settings(path)


def test_compose_file_is_valid_compose_spec() -> None:
    done = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec",
         DOCKER / "compose.yaml"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_has_no_hadolint_findings() -> None:
    done = subprocess.run([BIN / "hadolint", DOCKER / "Dockerfile"], capture_output=True, text=True)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_every_instance_file_under_docker_is_mounted_by_a_service() -> None:
    mounted = {path.resolve() for _, _, path in instance_services()}
    assert mounted  # the comparison below is not between two empty sets
    assert {p.resolve() for p in DOCKER.rglob("*.toml")} == mounted


@pytest.mark.parametrize(
    "service_name", [name for name, _, _ in instance_services()], ids=lambda n: n
)
def test_every_url_a_container_publishes_is_reachable_by_name(
    service_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose()["services"]
    [(_, service, path)] = [s for s in instance_services() if s[0] == service_name]
    s = loaded(service, path, monkeypatch)
    proxy_names = set(services["caddy"]["networks"]["federation"]["aliases"])
    proxy_names = {with_defaults(n) for n in proxy_names}

    # Actor ids, key ids, block URNs' URLs: https on a name the proxy answers for.
    assert s.scheme == "https" and s.domain in proxy_names
    # Each block's `url` (browser redirects): the proxy's /kb/ route to the backend.
    assert s.backend_page_url == f"{s.base_url}/kb"
    # Gateway and workers call the backend by a compose service name.
    backend_host = urlsplit(s.backend_url).hostname
    assert backend_host in services, f"{s.backend_url}: no compose service {backend_host}"
    # The reference backend posts its events to the gateway in the namespace it shares.
    gateway_url = s.local_url(s.listen_port)
    assert urlsplit(gateway_url).hostname == "127.0.0.1"
    if service.get("network_mode", "").startswith("service:"):
        assert service["network_mode"] == f"service:{backend_host}"
    for url in (s.base_url, s.backend_page_url, s.backend_url, gateway_url):
        assert urlsplit(url).hostname not in WILDCARDS, url


def test_the_proxy_serves_each_instance_domain_and_routes_to_its_services() -> None:
    caddyfile = (DOCKER / "Caddyfile").read_text()
    sites = dict(re.findall(r"^\{\$[A-Z_]+:([a-z.]+)\} \{\n\timport gateway (\w+)$",
                            caddyfile, re.M))  # fmt: skip
    instances = [load_settings(path) for _, _, path in instance_services()]
    assert sites == {s.domain: s.name for s in instances}
    assert all(name in compose()["services"] for name in sites.values())
