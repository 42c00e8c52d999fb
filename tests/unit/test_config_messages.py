"""Configuration errors name where the bad value came from, and the command says what it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.cli import build_parser
from federation.config import load_settings
from federation.errors import ConfigError


def _instance_file(tmp_path: Path) -> Path:
    path = tmp_path / "alpha.toml"
    path.write_text('domain = "alpha.example"\n', encoding="utf-8")
    return path


def test_a_bad_environment_variable_is_reported_as_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEDERATION_LISTEN_PORT", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings(_instance_file(tmp_path))
    message = str(caught.value)
    assert "environment variable FEDERATION_LISTEN_PORT" in message
    assert "alpha.toml" not in message  # the file is not to blame


def test_a_bad_value_in_the_file_is_reported_against_the_file(tmp_path: Path) -> None:
    path = tmp_path / "beta.toml"
    path.write_text('domain = "beta.example"\nlisten_port = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "beta.toml" in message and "listen_port" in message
    assert "environment variable" not in message


def test_no_instance_file_says_one_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEDERATION_DOMAIN", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    message = str(caught.value)
    assert "instance file is needed" in message and "--instance" in message
    assert "Field required" not in message


def test_top_level_help_says_what_the_command_does() -> None:
    text = build_parser().format_help()
    assert "run a gateway" in text
    for command in ("serve", "backend", "dev", "keys", "admin"):
        assert command in text
