"""`federation serve` fails at start with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cluster import make_node

pytestmark = pytest.mark.integration


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "federation.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_bad_field_in_instance_file_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('domain = "127.0.0.1:8001"\nlisten_port = "not a port"\n')
    result = run_cli("serve", "--instance", str(config))
    assert_clean_failure(result, "listen_port", str(config))
    assert result.returncode == 2


def test_unknown_field_and_bad_domain_are_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('domain = "not a host!"\nlisten_prot = 1\n')
    result = run_cli("serve", "--instance", str(config))
    assert_clean_failure(result, "domain", "listen_prot")


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("domain = \n")
    assert_clean_failure(run_cli("serve", "--instance", str(config)), "not valid TOML")
    missing = tmp_path / "nope.toml"
    assert_clean_failure(run_cli("serve", "--instance", str(missing)), "not found")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    node = make_node(tmp_path, "envy")
    result = run_cli("serve", "--instance", str(node.config), env={"FEDERATION_LISTEN_PORT": "-5"})
    assert_clean_failure(result, "environment variable FEDERATION_LISTEN_PORT")


def test_port_already_in_use(tmp_path: Path) -> None:
    node = make_node(tmp_path, "busy")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", node.port))
        holder.listen()
        result = run_cli("serve", "--instance", str(node.config))
    assert_clean_failure(result, "already in use", str(node.port))
    assert result.returncode == 1


def test_unreadable_or_corrupt_key_file(tmp_path: Path) -> None:
    node = make_node(tmp_path, "keys")
    assert run_cli("keys", "show", "--instance", str(node.config)).returncode == 0
    rsa = node.root / "keys" / "rsa.pem"
    rsa.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = run_cli("serve", "--instance", str(node.config))
    assert_clean_failure(result, "rsa.pem")
    assert "not a key" not in result.stderr  # key material is never echoed
    rsa.unlink()
    rsa.mkdir()  # a directory where the file should be: unreadable as a key
    assert_clean_failure(run_cli("serve", "--instance", str(node.config)), "rsa.pem")


def test_keys_show_prints_public_keys_only(tmp_path: Path) -> None:
    node = make_node(tmp_path, "show")
    result = run_cli("keys", "show", "--instance", str(node.config))
    assert result.returncode == 0, result.stderr
    assert "BEGIN PUBLIC KEY" in result.stdout
    assert "PRIVATE" not in result.stdout
    assert "z6Mk" in result.stdout  # Ed25519 Multikey
    mode = (node.root / "keys" / "rsa.pem").stat().st_mode & 0o777
    assert mode == 0o600
