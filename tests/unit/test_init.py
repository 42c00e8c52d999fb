"""`federation init`: the instance file it writes is safe for a server on the internet, it
creates the keys, and it refuses what it must not do (overwrite, a private address)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from federation.cli import EXIT_CONFIG, main
from federation.config import FederationMode, load_settings


def init(tmp_path: Path, domain: str, folder: str = "site") -> int:
    return main(["init", "--domain", domain, "--dir", str(tmp_path / folder)])


def test_init_writes_safe_defaults_and_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path, "Blocks.Example.org") == 0
    path = tmp_path / "site" / "instance.toml"
    settings = load_settings(path)
    assert settings.base_url == "https://blocks.example.org"
    assert settings.dev_allow_http is False and settings.allow_private_addresses == []
    assert settings.mode is FederationMode.APPROVAL
    assert settings.listen_host == "127.0.0.1"
    assert settings.backend_page_url == "https://blocks.example.org/kb"
    for token in (settings.backend_token, settings.admin_token):
        assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert settings.backend_token != settings.admin_token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the tokens
    assert {p.name for p in settings.key_dir.iterdir()} == {"rsa.pem", "ed25519.pem"}
    out = capsys.readouterr().out
    assert f"federation serve --instance {path}" in out
    assert "curl https://blocks.example.org/healthz" in out


def test_two_inits_never_share_a_token(tmp_path: Path) -> None:
    assert init(tmp_path, "a.example.org", "a") == 0
    assert init(tmp_path, "b.example.org", "b") == 0
    a = load_settings(tmp_path / "a" / "instance.toml")
    b = load_settings(tmp_path / "b" / "instance.toml")
    assert {a.backend_token, a.admin_token}.isdisjoint({b.backend_token, b.admin_token})


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert init(tmp_path, "blocks.example.org") == 0
    path = tmp_path / "site" / "instance.toml"
    before = path.read_bytes()
    assert init(tmp_path, "other.example.org") == EXIT_CONFIG
    assert "exists already" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.parametrize("domain", ["127.0.0.1", "10.1.2.3", "[::1]", "localhost", "a b"])
def test_init_refuses_a_domain_peers_cannot_reach(
    tmp_path: Path, domain: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path, domain) == EXIT_CONFIG
    assert "--domain" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()
